// Package vulnmod is a test dependency with two "vulnerable" functions,
// named by the SYNTHETIC records in ../osv.
package vulnmod

// Called is the vulnerable function the app calls.
func Called() string { return "called" }

// NotCalled is the vulnerable function the app never calls.
func NotCalled() string { return "not called" }
