package local

import (
	"context"
	"fmt"

	"github.com/slipway-ci/slipway/internal/analysis"
	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/target/local/supervisor"
)

// crashLimit is how many restarts of one replica make WaitReady give up.
const crashLimit = 3

// Status reports the slot as it runs. A slot loaded from disk and not yet
// applied by this Target reports its recorded versions with nothing running
// (nothing watches them yet).
func (t *Target) Status(ctx context.Context, service, env string) (target.Status, error) {
	if err := ctx.Err(); err != nil {
		return target.Status{}, err
	}
	s, err := t.lookup(service, env, false)
	if err != nil {
		return target.Status{}, err
	}
	s.mu.Lock()
	f, sup := s.file, s.sup
	s.mu.Unlock()
	st := target.Status{Service: service, Env: env, Route: f.Route}
	if f.Address != "" {
		st.Endpoint = "http://" + f.Address
	}
	for _, v := range f.Versions {
		vs := target.VersionStatus{Name: v.Name, Digest: v.Digest, Replicas: v.Replicas}
		if sup != nil {
			for _, r := range sup.Replicas(v.Name) {
				vs.Running += b2i(r.Running)
				vs.Ready += b2i(r.Ready)
				vs.Restarts += r.Restarts
			}
		}
		st.Versions = append(st.Versions, vs)
	}
	return st, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// WaitReady waits until n replicas of version are ready. It gives up with
// target.ErrNotReady once a replica of the version has been restarted
// crashLimit times (exits or liveness failures) before n are ready. A
// replica that runs but never passes readiness is waited for until ctx ends.
func (t *Target) WaitReady(ctx context.Context, service, env, version string, n int) error {
	s, err := t.lookup(service, env, false)
	if err != nil {
		return err
	}
	for {
		s.mu.Lock()
		ch, sup, gone, live := s.changed, s.sup, s.gone, s.live[version]
		s.mu.Unlock()
		switch {
		case gone:
			return ErrClosed
		case sup == nil || !live:
			return fmt.Errorf("%w: %s/%s has no version %q applied by this target", target.ErrNotReady, service, env, version)
		}
		ready, reason := readiness(sup.Replicas(version))
		if ready >= n {
			return nil
		}
		if reason != "" {
			return fmt.Errorf("%w: %s/%s %s: %d of %d ready: %s", target.ErrNotReady, service, env, version, ready, n, reason)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("local: %s/%s %s: %d of %d ready: %w", service, env, version, ready, n, ctx.Err())
		case <-ch:
		}
	}
}

// readiness counts ready replicas and says why they cannot all be.
func readiness(reps []supervisor.Replica) (ready int, reason string) {
	for _, r := range reps {
		ready += b2i(r.Ready)
		if r.Restarts >= crashLimit && !r.Ready && reason == "" {
			reason = fmt.Sprintf("replica %s restarted %d times, last exit: %s", r.ID, r.Restarts, r.LastExit)
		}
	}
	return ready, reason
}

// Remove stops the slot's router and replicas and deletes its record.
func (t *Target) Remove(ctx context.Context, service, env string) error {
	s, err := t.lookup(service, env, false)
	if err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	s.stopServing()
	sup := s.supervisor()
	s.mu.Lock()
	versions := s.file.Versions
	s.mu.Unlock()
	for _, v := range versions { // replicas left by a previous Target
		recs := alive(s.pending(v.Name))
		if len(recs) == 0 {
			continue
		}
		p, err := t.program(ctx, v.version())
		if err != nil {
			return err
		}
		spec := s.spec(target.Desired{Service: service, Env: env}, v.version(), p)
		spec.Replicas = len(recs)
		if err := sup.Adopt(ctx, spec, recs); err != nil {
			return fmt.Errorf("local: adopt %s to stop it: %w", v.Name, err)
		}
		s.dropPending(recs)
	}
	if err := sup.StopAll(ctx); err != nil {
		return fmt.Errorf("local: remove %s/%s: %w", service, env, err)
	}
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
	_ = sup.Close()
	s.notify()
	t.forget(s)
	return saveSlot(t.dir, service, env, nil)
}

// Sample returns the router's cumulative data for version (zero before the
// slot is served by this Target).
func (t *Target) Sample(service, env, version string) (analysis.Sample, error) {
	s, err := t.lookup(service, env, false)
	if err != nil {
		return analysis.Sample{}, err
	}
	s.mu.Lock()
	rt := s.rt
	s.mu.Unlock()
	if rt == nil {
		return analysis.Sample{}, nil
	}
	snap := rt.Snapshot(version)
	out := analysis.Sample{Requests: snap.Requests, Errors: snap.Errors, Sum: snap.Sum}
	for _, b := range snap.Buckets {
		out.Buckets = append(out.Buckets, analysis.Bucket{UpperBound: b.UpperBound, Count: b.Count})
	}
	return out, nil
}
