// Command gated is the gates example: every change to it is scanned for
// secrets, vulnerable dependencies and insecure code, and must keep new
// code covered by tests.
package main

import (
	"fmt"

	"example.com/greet"
)

func message(name string) string {
	if name == "" {
		name = "world"
	}
	return greet.Hello(name)
}

func main() { fmt.Println(message("")) }
