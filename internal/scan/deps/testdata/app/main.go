// Command app calls one of example.com/vulnmod's two vulnerable functions.
package main

import "example.com/vulnmod"

func main() { vulnmod.Called() }
