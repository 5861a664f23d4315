package cli

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// closeInheritedFDs marks every descriptor slipway inherited beyond
// stdin, stdout and stderr close-on-exec, so that steps do not inherit
// whatever the parent process left open (a CI runner's sockets, a
// terminal multiplexer's pipes).
func closeInheritedFDs() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return // not Linux, or no /proc: nothing more can be done here
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		unix.CloseOnExec(fd)
	}
}
