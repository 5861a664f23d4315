// Command tool holds a hardcoded credential (G101); the value is fake.
package main

import "fmt"

const dbPassword = "Zq8vL2rT9wXk4mN7pQ3sYb6D-fake"

func main() {
	fmt.Println(len(dbPassword))
}
