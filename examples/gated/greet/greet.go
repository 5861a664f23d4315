// Package greet stands in for a third-party dependency; the synthetic OSV
// record in ../osv says its versions before v1.1.0 are vulnerable.
package greet

// Hello greets name.
func Hello(name string) string { return "hello, " + name }
