package testtool

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LeftChildren reports (and prints) child processes of this test binary
// still present, zombies included: a TestMain calls it after m.Run so that
// every test must stop and reap what it started.
func LeftChildren() bool {
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	left := false
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		if fields := strings.Fields(string(b[i+1:])); i > 0 && len(fields) > 1 && fields[1] == self {
			fmt.Fprintf(os.Stderr, "left child process: %s\n", b)
			left = true
		}
	}
	return left
}
