package deploy

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/store/sqlite"
)

func openStore(t testing.TB) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestCanMove(t *testing.T) {
	tests := []struct {
		from, to store.DeployState
		want     bool
	}{
		{store.DeployPending, store.DeployProgressing, true},
		{store.DeployPending, store.DeployAwaitingApproval, true},
		{store.DeployAwaitingApproval, store.DeployProgressing, true},
		{store.DeployProgressing, store.DeployPaused, true},
		{store.DeployPaused, store.DeployProgressing, true},
		{store.DeployProgressing, store.DeployRollingBack, true},
		{store.DeployRollingBack, store.DeployRolledBack, true},
		{store.DeployRollingBack, store.DeployFailed, true},
		{store.DeploySucceeded, store.DeployRollingBack, false}, // a rollback of a finished one is a new deployment
		{store.DeployRolledBack, store.DeployProgressing, false},
		{store.DeployAwaitingApproval, store.DeploySucceeded, false},
		{store.DeployProgressing, store.DeployFailed, false}, // failed only when a rollback cannot complete
	}
	for _, tt := range tests {
		if got := CanMove(tt.from, tt.to); got != tt.want {
			t.Errorf("CanMove(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestMove(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	d := &store.Deployment{Env: "production", Service: "hello", Repo: "hello", Digest: "sha256:a", Created: t0, Updated: t0}
	if err := s.Deployments().Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	other, _ := s.Deployments().Get(ctx, d.ID) // a second controller's stale copy
	if err := Move(ctx, s.Deployments(), d, store.DeployProgressing, t0.Add(time.Second), func(d *store.Deployment) { d.Weight = 5 }); err != nil {
		t.Fatal(err)
	}
	if err := Move(ctx, s.Deployments(), d, store.DeployAwaitingApproval, t0, nil); !errors.Is(err, ErrIllegal) {
		t.Errorf("illegal move: err = %v", err)
	}
	if err := Move(ctx, s.Deployments(), other, store.DeployRollingBack, t0, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale move: err = %v, want ErrConflict", err)
	}
	if other.State != store.DeployProgressing || other.Weight != 5 {
		t.Errorf("after a conflict the copy is re-read: %+v", other)
	}
	if err := Move(ctx, s.Deployments(), d, store.DeploySucceeded, t0.Add(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Deployments().Get(ctx, d.ID); got.State != store.DeploySucceeded || !got.Finished.Equal(t0.Add(time.Minute)) {
		t.Errorf("stored: %+v", got)
	}
}
