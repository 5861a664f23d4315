module example.com/vulnmod

go 1.22
