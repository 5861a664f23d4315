package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
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

// runsLockPath is one file whose byte at offset <run id> is locked (an
// open-file-description lock) by the process running that run: liveness
// for every run without a file per run.
func (a *App) runsLockPath() string {
	return filepath.Join(a.Config.StateDir, "locks", "runs.lock")
}

// lockRun takes run id's byte lock; ok is false when another holder has it.
func (a *App) lockRun(id int64) (l *fileLock, ok bool, err error) {
	f, err := os.OpenFile(a.runsLockPath(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("run lock: %w", err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: id, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		f.Close()
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("run lock: %w", err)
	}
	return &fileLock{f: f}, true, nil
}

func (a *App) groupLockPath(group string) string {
	sum := sha256.Sum256([]byte(group))
	return filepath.Join(a.Config.StateDir, "locks", "group-"+hex.EncodeToString(sum[:8])+".lock")
}

// runAlive reports whether the process running run id still holds its lock.
func (a *App) runAlive(id int64) bool {
	f, err := os.Open(a.runsLockPath())
	if err != nil {
		return false
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: id, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false
	}
	return lk.Type != unix.F_UNLCK
}
