package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// fileLock is an flock held by this process; the kernel drops it when the
// process dies, which is how other processes tell a live run from a crashed
// one.
type fileLock struct{ f *os.File }

// tryLock takes the lock at path without waiting; ok is false when another
// process holds it.
func tryLock(path string) (l *fileLock, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	return &fileLock{f: f}, true, nil
}

// lock waits for the lock, polling so that ctx can end the wait; onWait is
// called once when the lock is busy.
func lock(ctx context.Context, path string, onWait func()) (*fileLock, error) {
	waited := false
	for {
		l, ok, err := tryLock(path)
		if err != nil || ok {
			return l, err
		}
		if !waited && onWait != nil {
			onWait()
		}
		waited = true
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (l *fileLock) Release() {
	if l != nil {
		l.f.Close() // closing drops the flock
	}
}

func (a *App) runLockPath(id int64) string {
	return filepath.Join(a.Config.StateDir, "locks", fmt.Sprintf("run-%d.lock", id))
}

func (a *App) groupLockPath(group string) string {
	sum := sha256.Sum256([]byte(group))
	return filepath.Join(a.Config.StateDir, "locks", "group-"+hex.EncodeToString(sum[:8])+".lock")
}

// runAlive reports whether the process running run id still holds its lock.
func (a *App) runAlive(id int64) bool {
	l, ok, err := tryLock(a.runLockPath(id))
	if err != nil {
		return false
	}
	if ok {
		l.Release()
		return false
	}
	return true
}
