package localapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// pollInterval paces every wait on another process (lock, dial, exit).
const pollInterval = 25 * time.Millisecond

// errLocked means another open file description holds the lock.
var errLocked = errors.New("local api lock held")

// fileLock is an exclusive flock on <stateDir>/up/lock. The kernel drops it
// when the holder dies, which is how a crashed server is told from a live one.
// The descriptor is close-on-exec, so replicas started by the server do not
// inherit it.
type fileLock struct{ f *os.File }

// tryLock takes the lock without waiting; errLocked when it is held.
func tryLock(stateDir string) (*fileLock, error) {
	if err := ensureUpDir(stateDir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(lockPath(stateDir), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open local api lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("flock %s: %w", lockPath(stateDir), err)
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
	case errors.Is(err, errLocked):
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
