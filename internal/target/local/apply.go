package local

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/target/local/supervisor"
)

// Apply converges the slot to d: binaries fetched, replicas of the desired
// versions started (or adopted from the previous Target), backends and
// route set, then versions no longer desired drained and stopped.
func (t *Target) Apply(ctx context.Context, d target.Desired) error {
	if err := validate(d); err != nil {
		return err
	}
	progs := map[string]program{}
	for _, v := range d.Versions {
		p, err := t.program(ctx, v)
		if err != nil {
			return err
		}
		progs[v.Name] = p
	}
	s, err := t.lookup(d.Service, d.Env, true)
	if err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	s.mu.Lock()
	gone := s.gone
	s.mu.Unlock()
	if gone { // removed or closed while this Apply waited for the lock
		return fmt.Errorf("local: %s/%s: %w", d.Service, d.Env, ErrClosed)
	}
	if err := s.checkDigests(d.Versions); err != nil {
		return err
	}
	if err := s.activate(d.Workload); err != nil {
		return err
	}
	s.mu.Lock()
	old := slices.Clone(s.file.Versions)
	for _, v := range d.Versions {
		s.live[v.Name] = true
	}
	s.file.Versions = mergeVersions(d.Versions, old)
	s.mu.Unlock()
	for _, v := range d.Versions {
		if err := s.run(ctx, s.spec(d, v, progs[v.Name])); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.file.Route = d.Route
	rt := s.rt
	s.mu.Unlock()
	if err := rt.SetRoute(routerRoute(d.Route)); err != nil {
		return fmt.Errorf("local: route of %s/%s: %w", d.Service, d.Env, err)
	}
	if err := s.save(); err != nil {
		return err
	}
	for _, v := range s.stale(d.Versions) {
		if err := s.retire(ctx, d, v); err != nil {
			return err
		}
	}
	return nil
}

// run makes spec.Replicas replicas of a desired version run, adopting the
// recorded ones first; extras leave the router before they are stopped.
func (s *slot) run(ctx context.Context, spec supervisor.Spec) error {
	sup := s.supervisor()
	if recs := s.pending(spec.Version); len(recs) > 0 {
		if err := sup.Adopt(ctx, spec, recs); err != nil {
			return fmt.Errorf("local: adopt %s: %w", spec.Version, err)
		}
		s.dropPending(recs)
	}
	if reps := sup.Replicas(spec.Version); len(reps) > spec.Replicas {
		s.mu.Lock()
		for _, r := range reps[spec.Replicas:] { // Start stops the newest
			s.excluded[r.ID] = true
		}
		s.mu.Unlock()
	}
	s.syncBackends(spec.Version)
	if err := sup.Start(ctx, spec); err != nil {
		return fmt.Errorf("local: start %s: %w", spec.Version, err)
	}
	s.syncBackends(spec.Version)
	return nil
}

// retire takes v out of the router, drains it (at most StopGrace) and stops
// its replicas, adopting any still-running recorded ones first.
func (s *slot) retire(ctx context.Context, d target.Desired, v target.Version) error {
	s.mu.Lock()
	delete(s.live, v.Name)
	s.mu.Unlock()
	s.syncBackends(v.Name)
	sup := s.supervisor()
	if recs := alive(s.pending(v.Name)); len(recs) > 0 {
		p, err := s.t.program(ctx, v)
		if err != nil {
			return err
		}
		spec := s.spec(d, v, p)
		spec.Env, spec.Replicas = nil, len(recs) // only running processes are adopted: no restart
		if err := sup.Adopt(ctx, spec, recs); err != nil {
			return fmt.Errorf("local: adopt %s to stop it: %w", v.Name, err)
		}
	}
	s.dropPending(s.pending(v.Name))
	s.mu.Lock()
	rt := s.rt
	s.mu.Unlock()
	grace := d.Workload.StopGrace
	if grace <= 0 {
		grace = defaultGrace
	}
	dctx, cancel := context.WithTimeout(ctx, grace)
	err := rt.Drain(dctx, v.Name)
	cancel()
	if err != nil && ctx.Err() == nil {
		s.t.logf("local: %s/%s: %v; stopping anyway", s.service, s.env, err)
	}
	if err := sup.Stop(ctx, v.Name); err != nil {
		return fmt.Errorf("local: stop %s: %w", v.Name, err)
	}
	s.mu.Lock()
	s.file.Versions = slices.DeleteFunc(s.file.Versions, func(f versionFile) bool { return f.Name == v.Name })
	s.mu.Unlock()
	return s.save()
}

// defaultGrace bounds draining and stopping when Workload.StopGrace is 0,
// as the supervisor's default grace period does.
const defaultGrace = 10 * time.Second

// spec is the supervisor's view of version v of d.
func (s *slot) spec(d target.Desired, v target.Version, p program) supervisor.Spec {
	w := d.Workload
	return supervisor.Spec{
		Service: d.Service, Environment: d.Env, Version: v.Name,
		Binary: p.Binary, Args: p.Args,
		Env:      append(slices.Clone(p.Env), w.Environ...),
		Replicas: v.Replicas, Readiness: probe(w.Readiness), Liveness: probe(w.Liveness),
		Resources:   supervisor.Resources{MemoryBytes: w.MemoryBytes, CPUMillicores: int64(w.CPUMillis)},
		GracePeriod: w.StopGrace,
		LogDir:      filepath.Join(s.t.dir, "logs", d.Service+"."+d.Env),
	}
}

func probe(p target.Probe) supervisor.Probe {
	return supervisor.Probe{Path: p.Path, Interval: p.Interval, Timeout: p.Timeout,
		FailureThreshold: p.FailureThreshold, InitialDelay: p.InitialDelay}
}

// validate checks d before anything is started.
func validate(d target.Desired) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("local: %s/%s: %s", d.Service, d.Env, fmt.Sprintf(format, a...))
	}
	if !validName(d.Service) || !validName(d.Env) {
		return bad("invalid service or environment name")
	}
	if len(d.Versions) == 0 || len(d.Versions) > 2 {
		return bad("%d versions, want 1 or 2", len(d.Versions))
	}
	names := map[string]bool{}
	for _, v := range d.Versions {
		if !validName(v.Name) || names[v.Name] || v.Replicas < 0 {
			return bad("invalid or repeated version %q (replicas %d)", v.Name, v.Replicas)
		}
		names[v.Name] = true
	}
	if !names[d.Route.Stable] || (d.Route.Canary != "" && !names[d.Route.Canary]) {
		return bad("route %+v names a version not in the slot", d.Route)
	}
	return nil
}

// checkDigests refuses a running version name with another digest: a
// version's workload is fixed once it runs.
func (s *slot) checkDigests(vs []target.Version) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, v := range vs {
		for _, f := range s.file.Versions {
			if f.Name == v.Name && f.Digest != v.Digest {
				errs = append(errs, fmt.Errorf("local: version %s runs %s, not %s: a new digest needs a new version name", v.Name, f.Digest, v.Digest))
			}
		}
	}
	return errors.Join(errs...)
}

// mergeVersions lists the desired versions, then the old ones not desired
// (kept on record until they are stopped).
func mergeVersions(desired []target.Version, old []versionFile) []versionFile {
	var out []versionFile
	for _, v := range desired {
		out = append(out, versionFile{Name: v.Name, Repo: v.Repo, Digest: v.Digest, Replicas: v.Replicas})
	}
	for _, f := range old {
		if !slices.ContainsFunc(desired, func(v target.Version) bool { return v.Name == f.Name }) {
			out = append(out, f)
		}
	}
	return out
}

// stale lists recorded versions (with their records) that are not desired.
func (s *slot) stale(desired []target.Version) []target.Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	isDesired := func(name string) bool {
		return slices.ContainsFunc(desired, func(v target.Version) bool { return v.Name == name })
	}
	var out []target.Version
	for _, f := range s.file.Versions {
		if !isDesired(f.Name) {
			out = append(out, f.version())
		}
	}
	return out
}

// pending returns the recorded, not yet adopted, replicas of version.
func (s *slot) pending(version string) []supervisor.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []supervisor.Record
	for _, r := range s.file.Replicas {
		if r.Version == version {
			out = append(out, r)
		}
	}
	return out
}

// dropPending forgets recorded replicas now supervised (or dead).
func (s *slot) dropPending(recs []supervisor.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.file.Replicas = slices.DeleteFunc(s.file.Replicas, func(r supervisor.Record) bool {
		return slices.ContainsFunc(recs, func(x supervisor.Record) bool { return x.ID == r.ID })
	})
}

func alive(recs []supervisor.Record) []supervisor.Record {
	return slices.DeleteFunc(slices.Clone(recs), func(r supervisor.Record) bool { return !procAlive(r.PID, r.StartTime) })
}
