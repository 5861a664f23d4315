package localapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sys/unix"
)

// Stop asks the server of stateDir to shut down (POST /v1/shutdown) and
// waits, bounded by ctx, until it has released the state dir's lock. When
// the lock is held but the API does not answer, the pid named in info.json
// is sent SIGTERM instead (it is only signalled while the lock is held, so
// a recycled pid of a long-dead server is not). ErrNotRunning means nothing
// was running.
func Stop(ctx context.Context, stateDir string) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		c, err := Dial(ctx, stateDir)
		switch {
		case err == nil:
			if err = c.Do(ctx, http.MethodPost, "/v1/shutdown", nil, nil); err == nil {
				return waitUnlocked(ctx, stateDir)
			}
			// Went away between ping and shutdown, or hung: look again.
		case errors.Is(err, ErrNotRunning):
			return err
		case errors.Is(err, ErrNotResponding):
			if info, ierr := readInfo(stateDir); ierr == nil && pidAlive(info.PID) {
				if kerr := unix.Kill(info.PID, unix.SIGTERM); kerr != nil && !errors.Is(kerr, unix.ESRCH) {
					return fmt.Errorf("stop slipway up (pid %d): %w", info.PID, kerr)
				}
				return waitUnlocked(ctx, stateDir)
			}
			// Starting up: it has not published its pid yet.
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stop slipway up: %w (last: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// pidAlive reports whether a process with this pid exists (a zombie counts).
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
