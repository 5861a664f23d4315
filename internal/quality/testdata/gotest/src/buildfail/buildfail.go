// Package buildfail does not compile with its tests.
package buildfail

// Answer is 42.
func Answer() int { return 42 }
