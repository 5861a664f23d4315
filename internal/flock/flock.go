// Package flock takes exclusive, non-blocking advisory locks on files. The
// kernel drops a lock when its holder dies, which is how the state dir's
// long-running processes (`slipway up`, the registry) tell a crashed holder
// from a live one.
package flock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrLocked means another open file description holds the lock.
var ErrLocked = errors.New("lock held")

// TryLock opens (creating it 0600) and locks path without waiting. Closing
// the returned file releases the lock. The descriptor is close-on-exec, so
// child processes do not inherit the lock.
func TryLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	return f, nil
}
