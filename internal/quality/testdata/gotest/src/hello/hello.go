// Package hello is a fixture whose tests pass, fail and skip in the ways a
// real suite does; its `go test -json` output feeds the quality parser tests.
package hello

// Greet says hello.
func Greet(name string) string { return "hello, " + name }
