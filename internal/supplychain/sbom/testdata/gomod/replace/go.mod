module example.com/app

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	golang.org/x/mod v0.37.0
	example.com/local v1.0.0
	github.com/old/thing v1.0.0+incompatible
)

require (
	golang.org/x/sync v0.25.0 // indirect
	github.com/agnivade/levenshtein v1.2.2 // indirect
)

// version-specific replacement wins over the path-wide one below
replace golang.org/x/mod v0.37.0 => golang.org/x/mod v0.42.0

replace golang.org/x/mod => golang.org/x/mod v0.30.0

replace example.com/local => ./local

replace github.com/old/thing => github.com/dustin/go-humanize v1.1.0
