package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
)

func runDeployments(t *testing.T, open Open) {
	t.Run("DeploymentLock", func(t *testing.T) { testDeploymentLock(t, open(t)) })
	t.Run("DeploymentTransitions", func(t *testing.T) { testDeploymentTransitions(t, open(t)) })
	t.Run("Measurements", func(t *testing.T) { testMeasurements(t, open(t)) })
}

func newDeployment(t testing.TB, s store.Store, env, digest string) (*store.Deployment, error) {
	t.Helper()
	d := &store.Deployment{Env: env, Service: "hello", Repo: "hello", Digest: digest, Version: "v1.0.0", Strategy: "canary",
		Spec: []byte(`{"strategy":"canary"}`), Actor: "alice", Created: t0, Updated: t0}
	return d, s.Deployments().Create(context.Background(), d)
}

// One active deployment per environment; a finished one frees it.
func testDeploymentLock(t *testing.T, s store.Store) {
	ctx := context.Background()
	d1, err := newDeployment(t, s, "production", "sha256:a")
	if err != nil || d1.ID == 0 || d1.State != store.DeployPending {
		t.Fatalf("Create = %v, %+v", err, d1)
	}
	if _, err := newDeployment(t, s, "production", "sha256:b"); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("second active deployment: err = %v, want ErrBusy", err)
	}
	if _, err := newDeployment(t, s, "staging", "sha256:b"); err != nil {
		t.Fatalf("another environment: %v", err)
	}
	act, err := s.Deployments().Active(ctx, "production")
	if err != nil || act.ID != d1.ID || string(act.Spec) != `{"strategy":"canary"}` || !act.Created.Equal(t0) {
		t.Fatalf("Active = %+v, %v", act, err)
	}
	d1.State, d1.Finished = store.DeploySucceeded, t0.Add(time.Minute)
	if err := s.Deployments().Update(ctx, d1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deployments().Active(ctx, "production"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Active after success: %v, want ErrNotFound", err)
	}
	d2, err := newDeployment(t, s, "production", "sha256:b")
	if err != nil {
		t.Fatalf("after the first finished: %v", err)
	}
	list, err := s.Deployments().List(ctx, store.DeploymentFilter{Env: "production"})
	if err != nil || len(list) != 2 || list[0].ID != d2.ID || !list[1].Finished.Equal(t0.Add(time.Minute)) {
		t.Fatalf("List = %v, %v", list, err)
	}
	if list, _ := s.Deployments().List(ctx, store.DeploymentFilter{State: store.DeploySucceeded}); len(list) != 1 {
		t.Errorf("List(succeeded) = %d deployments, want 1", len(list))
	}
}

// Update is a compare-and-set on the state.
func testDeploymentTransitions(t *testing.T, s store.Store) {
	ctx := context.Background()
	d, err := newDeployment(t, s, "production", "sha256:a")
	if err != nil {
		t.Fatal(err)
	}
	d.State, d.Step, d.Weight = store.DeployProgressing, 1, 5
	if err := s.Deployments().Update(ctx, d, store.DeployPending); err != nil {
		t.Fatal(err)
	}
	stale := *d
	stale.State = store.DeployPaused
	d.State, d.Reason = store.DeployRollingBack, "analysis failed: error-rate 0.31 > 0.05"
	if err := s.Deployments().Update(ctx, d, store.DeployProgressing, store.DeployPaused); err != nil {
		t.Fatal(err)
	}
	if err := s.Deployments().Update(ctx, &stale, store.DeployProgressing); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale transition: err = %v, want ErrConflict", err)
	}
	got, err := s.Deployments().Get(ctx, d.ID)
	if err != nil || got.State != store.DeployRollingBack || got.Weight != 5 || got.Reason != d.Reason {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if err := s.Deployments().Update(ctx, &store.Deployment{ID: 999}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update(missing) = %v, want ErrNotFound", err)
	}
}

func testMeasurements(t *testing.T, s store.Store) {
	ctx := context.Background()
	d, err := newDeployment(t, s, "production", "sha256:a")
	if err != nil {
		t.Fatal(err)
	}
	for i, phase := range []string{"successful", "failed"} {
		m := &store.Measurement{DeploymentID: d.ID, Analysis: "step-1", Metric: "error-rate", At: t0.Add(time.Duration(i) * time.Second),
			Phase: phase, Value: "0.01", DryRun: i == 1}
		if err := s.Deployments().Measure(ctx, m); err != nil || m.ID == 0 {
			t.Fatalf("Measure = %v (id %d)", err, m.ID)
		}
	}
	ms, err := s.Deployments().Measurements(ctx, d.ID)
	if err != nil || len(ms) != 2 || ms[0].Phase != "successful" || !ms[1].DryRun || !ms[1].At.Equal(t0.Add(time.Second)) {
		t.Fatalf("Measurements = %+v, %v", ms, err)
	}
}
