// Package inner is under testdata: never scanned.
package inner

import "os/exec"

// Run would be G204.
func Run(name string) error { return exec.Command(name).Run() }
