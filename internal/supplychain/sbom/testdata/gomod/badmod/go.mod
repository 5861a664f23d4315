module example.com/bad

go 1.26

require github.com/x/y
