module example.com/app

go 1.22

require (
	golang.org/x/text v0.3.7
	github.com/old/dep v1.0.0 // indirect
)

require example.com/local v0.1.0

replace github.com/old/dep => github.com/new/dep v1.2.3

replace example.com/local => ./local
