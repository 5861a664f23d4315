package app

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestRunAlive(t *testing.T) {
	a := newApp(t)
	if a.runAlive(1) {
		t.Fatal("run 1 alive before any lock file exists")
	}
	l1, ok, err := a.lockRun(1)
	if err != nil || !ok {
		t.Fatalf("lockRun(1) = %v, %v", ok, err)
	}
	l7, ok, err := a.lockRun(7)
	if err != nil || !ok {
		t.Fatalf("lockRun(7) while 1 is held = %v, %v", ok, err)
	}
	for _, tc := range []struct {
		id    int64
		alive bool
	}{{1, true}, {7, true}, {2, false}, {6, false}, {8, false}, {0, false}} {
		if got := a.runAlive(tc.id); got != tc.alive {
			t.Errorf("runAlive(%d) = %v while 1 and 7 are locked, want %v", tc.id, got, tc.alive)
		}
	}
	// OFD locks conflict between open files of one process, so a second
	// holder in this process is refused like one in another process.
	if l, ok, err := a.lockRun(1); err != nil || ok {
		l.Release()
		t.Errorf("second lockRun(1) = %v, %v; want refused", ok, err)
	}
	l1.Release()
	if a.runAlive(1) {
		t.Error("run 1 alive after Release")
	}
	if !a.runAlive(7) {
		t.Error("releasing run 1 released run 7")
	}
	again, ok, err := a.lockRun(1)
	if err != nil || !ok {
		t.Fatalf("lockRun(1) after Release = %v, %v", ok, err)
	}
	again.Release()
	l7.Release()
	if a.runAlive(7) {
		t.Error("run 7 alive after Release")
	}
	var nilLock *fileLock
	nilLock.Release() // must not panic
}

func TestGroupLock(t *testing.T) {
	a := newApp(t)
	p1, p2 := a.groupLockPath("deploy-prod"), a.groupLockPath("deploy-staging")
	if p1 == p2 {
		t.Fatalf("two groups share lock %s", p1)
	}
	if p1 != a.groupLockPath("deploy-prod") {
		t.Fatal("a group's lock path is not stable")
	}
	if filepath.Dir(p1) != filepath.Join(a.Config.StateDir, "locks") {
		t.Errorf("group lock %s outside the locks dir", p1)
	}
	held, ok, err := tryLock(p1)
	if err != nil || !ok {
		t.Fatalf("tryLock = %v, %v", ok, err)
	}
	if l, ok, err := tryLock(p1); err != nil || ok {
		l.Release()
		t.Fatalf("second tryLock of a held lock = %v, %v; want refused", ok, err)
	}
	other, ok, err := tryLock(p2)
	if err != nil || !ok {
		t.Fatalf("tryLock of another group = %v, %v", ok, err)
	}
	other.Release()

	// lock waits for a held lock, reports the wait once, and gives up
	// when its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	waits := 0
	_, err = lock(ctx, p1, func() { waits++; cancel() })
	if !errors.Is(err, context.Canceled) || waits != 1 {
		t.Errorf("lock on a held lock = %v after %d wait notices; want context.Canceled after 1", err, waits)
	}
	held.Release()
	l, err := lock(context.Background(), p1, func() { t.Error("waited for a free lock") })
	if err != nil {
		t.Fatalf("lock of a free lock: %v", err)
	}
	l.Release()
	if _, err := lock(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir"), nil); err == nil {
		t.Error("lock in a missing directory succeeded")
	}
}
