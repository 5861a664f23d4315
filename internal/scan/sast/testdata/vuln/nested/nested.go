// Package nested is another module: not part of this scan.
package nested

import "os/exec"

// Run would be G204.
func Run(name string) error { return exec.Command(name).Run() }
