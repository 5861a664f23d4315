package localapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/slipway-ci/slipway/internal/flock"
)

// pollInterval paces every wait on another process (lock, dial, exit).
const pollInterval = 25 * time.Millisecond

// fileLock is an exclusive flock on <stateDir>/up/lock. The kernel drops it
// when the holder dies, which is how a crashed server is told from a live one.
// The descriptor is close-on-exec, so replicas started by the server do not
// inherit it.
type fileLock struct{ f *os.File }

// tryLock takes the lock without waiting; flock.ErrLocked when it is held.
func tryLock(stateDir string) (*fileLock, error) {
	if err := ensureUpDir(stateDir); err != nil {
		return nil, err
	}
	f, err := flock.TryLock(lockPath(stateDir))
	if err != nil {
		return nil, err
	}
	return &fileLock{f: f}, nil
}

func (l *fileLock) release() {
	if l != nil && l.f != nil {
		l.f.Close() // closing the only descriptor drops the flock
		l.f = nil
	}
}

// lockHeld reports whether some process holds the lock. A missing lock file
// means nobody does. When the lock is free and info.json is left over (a
// kill -9), the stale file is removed while the lock is briefly held.
func lockHeld(stateDir string) (bool, error) {
	if _, err := os.Stat(lockPath(stateDir)); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	l, err := tryLock(stateDir)
	switch {
	case errors.Is(err, flock.ErrLocked):
		return true, nil
	case err != nil:
		return false, err
	}
	defer l.release()
	if err := os.Remove(infoPath(stateDir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("remove stale info.json: %w", err)
	}
	return false, nil
}

// waitUnlocked polls until nobody holds the lock, or ctx ends.
func waitUnlocked(ctx context.Context, stateDir string) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		held, err := lockHeld(stateDir)
		if err != nil || !held {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for slipway up to exit: %w", ctx.Err())
		case <-t.C:
		}
	}
}
