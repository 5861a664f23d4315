package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/store/storetest"
)

func open(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "slipway.db"))
	})
}

// Two handles on one file (two slipway processes) both write and see each
// other's records; a reopened database keeps them and is private (0600).
func TestSharedAndDurable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "slipway.db")
	a, b := open(t, path), open(t, path)
	r1 := &store.Run{Status: store.Running, Attempt: 1}
	r2 := &store.Run{Status: store.Running, Attempt: 1}
	if err := a.Runs().Create(ctx, r1); err != nil {
		t.Fatal(err)
	}
	if err := b.Runs().Create(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if r1.ID == r2.ID {
		t.Fatal("two processes got the same run id")
	}
	a.Close()
	c := open(t, path)
	runs, err := c.Runs().List(ctx, store.RunFilter{})
	if err != nil || len(runs) != 2 {
		t.Fatalf("reopened: %d runs, %v", len(runs), err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database mode %v, want 0600", fi.Mode().Perm())
	}
}
