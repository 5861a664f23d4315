module example.com/gated

go 1.22

require example.com/greet v1.1.0

replace example.com/greet => ./greet
