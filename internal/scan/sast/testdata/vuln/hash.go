// Package vuln holds code with known gosec findings, for tests.
package vuln

import (
	"crypto/md5"
	"fmt"
	"os"
	"os/exec"
)

// Sum hashes with a weak hash (G401, G501).
func Sum(b []byte) string {
	h := md5.New()
	h.Write(b)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Run starts a command chosen at run time (G204).
func Run() error {
	tool := os.Getenv("TOOL")
	return exec.Command(tool, "--version").Run()
}

// Load reads a file named by its caller (G304).
func Load(name string) ([]byte, error) {
	return os.ReadFile(name)
}

// Arg reads a file named on the command line (G703, taint analysis).
func Arg() ([]byte, error) {
	return os.ReadFile(os.Args[1])
}

// Suppressed is the same, marked as reviewed.
func Suppressed() ([]byte, error) {
	return os.ReadFile(os.Args[2]) // #nosec -- test fixture: reviewed
}
