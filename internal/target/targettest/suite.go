package targettest

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/target"
)

// Run runs the contract suite against the target h opens.
func Run(t *testing.T, h Harness) {
	cases := []struct {
		name string
		run  func(f *fixture)
	}{
		{"apply-serves-ready-version", applyServes},
		{"apply-is-idempotent", applyIdempotent},
		{"canary-weight-is-exact", canaryWeight},
		{"canary-header-forces-version", canaryHeader},
		{"blue-green-switch-and-drop", blueGreen},
		{"lower-replicas-stops-extras", lowerReplicas},
		{"restart-adopts-workloads", restartAdopts},
		{"restart-then-replace-version", restartReplace},
		{"remove-after-restart", removeAfterRestart},
		{"crashing-version-not-ready", crashing},
		{"unready-version-gets-no-traffic", unready},
		{"unknown-slot", unknownSlot},
		{"remove-stops-everything", remove},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(newFixture(t, h)) })
	}
}

func applyServes(f *fixture) {
	v1 := f.version(0, 2)
	f.apply(target.Route{Stable: v1.Name}, v1)
	bodies, versions := f.spread(10, "")
	if versions[v1.Name] != 10 || len(bodies) != 2 {
		f.t.Errorf("10 requests reached %v, want 2 processes of %s", bodies, v1.Name)
	}
	st := f.status()
	if st.Service != service || st.Env != env || len(st.Versions) != 1 {
		f.t.Fatalf("Status = %+v", st)
	}
	if vs := st.Versions[0]; vs.Name != v1.Name || vs.Digest != v1.Digest || vs.Replicas != 2 || vs.Running != 2 || vs.Ready != 2 {
		f.t.Errorf("version status = %+v, want 2 desired, running and ready", vs)
	}
}

func applyIdempotent(f *fixture) {
	v1 := f.version(0, 2)
	route := target.Route{Stable: v1.Name}
	f.apply(route, v1)
	before, _ := f.spread(10, "")
	f.apply(route, v1)
	after, _ := f.spread(10, "")
	if !maps.Equal(before, after) {
		f.t.Errorf("after a second Apply: %v, before: %v (want the same processes)", after, before)
	}
	if vs := f.status().Versions[0]; vs.Running != 2 || vs.Restarts != 0 {
		f.t.Errorf("version status = %+v, want 2 running, no restarts", vs)
	}
}

func canaryWeight(f *fixture) {
	v1, v2 := f.version(0, 1), f.version(1, 1)
	f.apply(target.Route{Stable: v1.Name, Canary: v2.Name, CanaryWeight: 25}, v1, v2)
	_, versions := f.spread(400, "")
	if versions[v2.Name] != 100 || versions[v1.Name] != 300 {
		f.t.Errorf("400 requests at 25%%: %v, want 100 on %s", versions, v2.Name)
	}
	if s, ok := f.tg.(target.Sampler); ok {
		got, err := s.Sample(service, env, v2.Name)
		if err != nil || got.Requests != 100 || got.Errors != 0 {
			f.t.Errorf("Sample(%s) = %+v, %v; want 100 requests, no errors", v2.Name, got, err)
		}
	}
}

func canaryHeader(f *fixture) {
	v1, v2 := f.version(0, 1), f.version(1, 1)
	f.apply(target.Route{Stable: v1.Name, Canary: v2.Name}, v1, v2)
	for header, want := range map[string]string{"always": v2.Name, "never": v1.Name, "": v1.Name} {
		if _, versions := f.spread(5, header); versions[want] != 5 {
			f.t.Errorf("header %q: %v, want all on %s", header, versions, want)
		}
	}
}

func blueGreen(f *fixture) {
	blue, green := f.version(0, 1), f.version(1, 1)
	f.apply(target.Route{Stable: blue.Name, Canary: green.Name}, blue, green)
	blueBodies, _ := f.spread(3, "")
	f.apply(target.Route{Stable: green.Name}, blue, green)
	if _, versions := f.spread(20, ""); versions[green.Name] != 20 {
		f.t.Fatalf("after the switch: %v, want all on %s", versions, green.Name)
	}
	f.apply(target.Route{Stable: green.Name}, green)
	if _, versions := f.spread(20, ""); versions[green.Name] != 20 {
		f.t.Errorf("after dropping %s: %v", blue.Name, versions)
	}
	st := f.status()
	if len(st.Versions) != 1 || st.Versions[0].Name != green.Name {
		f.t.Errorf("Status versions = %+v, want only %s", st.Versions, green.Name)
	}
	f.gone(blueBodies)
}

func lowerReplicas(f *fixture) {
	v1 := f.version(0, 3)
	route := target.Route{Stable: v1.Name}
	f.apply(route, v1)
	f.apply(route, f.version(0, 1))
	bodies, _ := f.spread(6, "")
	if len(bodies) != 1 {
		f.t.Errorf("after lowering to 1 replica: %v", bodies)
	}
	if vs := f.status().Versions[0]; vs.Replicas != 1 || vs.Running != 1 {
		f.t.Errorf("version status = %+v, want 1 desired and running", vs)
	}
}

func restartAdopts(f *fixture) {
	v1, v2 := f.version(0, 1), f.version(1, 1)
	route := target.Route{Stable: v1.Name, Canary: v2.Name, CanaryWeight: 25}
	f.apply(route, v1, v2)
	before := f.status()
	stable, _ := f.spread(3, "never")
	canary, _ := f.spread(3, "always")
	f.reopen()
	if st, err := f.tg.Status(f.ctx, service, env); err != nil || st.Route != route {
		f.t.Errorf("Status after restart = %+v, %v; want the recorded route %+v", st, err, route)
	}
	f.apply(route, v1, v2)
	if st := f.status(); st.Endpoint != before.Endpoint || st.Route != route {
		f.t.Errorf("after restart: endpoint %s route %+v, want %s %+v", st.Endpoint, st.Route, before.Endpoint, route)
	}
	s2, _ := f.spread(3, "never")
	c2, _ := f.spread(3, "always")
	if !maps.Equal(stable, s2) || !maps.Equal(canary, c2) {
		f.t.Errorf("after restart %v %v answer, want the same processes %v %v", s2, c2, stable, canary)
	}
	if _, versions := f.spread(400, ""); versions[v2.Name] != 100 {
		f.t.Errorf("400 requests after restart: %v, want 100 on %s", versions, v2.Name)
	}
}

func restartReplace(f *fixture) {
	v1, v2, v3 := f.version(0, 1), f.version(1, 1), f.version(2, 1)
	f.apply(target.Route{Stable: v1.Name, Canary: v2.Name, CanaryWeight: 50}, v1, v2)
	old, _ := f.spread(3, "never")
	kept, _ := f.spread(3, "always")
	f.reopen()
	f.apply(target.Route{Stable: v2.Name, Canary: v3.Name}, v2, v3)
	if got, _ := f.spread(3, ""); !maps.Equal(got, kept) {
		f.t.Errorf("stable after restart: %v, want the adopted %v", got, kept)
	}
	if _, versions := f.spread(3, "always"); versions[v3.Name] != 3 {
		f.t.Errorf("canary after restart: %v, want %s", versions, v3.Name)
	}
	if st := f.status(); len(st.Versions) != 2 {
		f.t.Errorf("Status versions = %+v, want %s and %s", st.Versions, v2.Name, v3.Name)
	}
	f.gone(old)
}

func removeAfterRestart(f *fixture) {
	v1 := f.version(0, 1)
	f.apply(target.Route{Stable: v1.Name}, v1)
	bodies, _ := f.spread(2, "")
	f.reopen()
	if err := f.tg.Remove(f.ctx, service, env); err != nil {
		f.t.Fatalf("Remove after restart: %v", err)
	}
	f.gone(bodies)
}

func crashing(f *fixture) {
	v := f.h.Crashing(f.t)
	v.Replicas = 1
	d := target.Desired{Service: service, Env: env, Versions: []target.Version{v}, Route: target.Route{Stable: v.Name}, Workload: workload}
	if err := f.tg.Apply(f.ctx, d); err != nil {
		f.t.Fatalf("Apply: %v", err)
	}
	if err := f.tg.WaitReady(f.ctx, service, env, v.Name, 1); !errors.Is(err, target.ErrNotReady) {
		f.t.Errorf("WaitReady of a crashing version = %v, want ErrNotReady", err)
	}
}

// unready: a version that runs but never passes its readiness probe is
// never reported ready and receives no request, not even one that asks for
// the canary by header.
func unready(f *fixture) {
	v1, u := f.version(0, 1), f.h.Unready(f.t)
	u.Replicas = 1
	d := target.Desired{Service: service, Env: env, Versions: []target.Version{v1, u},
		Route: target.Route{Stable: v1.Name, Canary: u.Name}, Workload: workload}
	if err := f.tg.Apply(f.ctx, d); err != nil {
		f.t.Fatalf("Apply: %v", err)
	}
	if err := f.tg.WaitReady(f.ctx, service, env, v1.Name, 1); err != nil {
		f.t.Fatalf("WaitReady(%s): %v", v1.Name, err)
	}
	ctx, cancel := context.WithTimeout(f.ctx, 2*time.Second)
	defer cancel()
	if err := f.tg.WaitReady(ctx, service, env, u.Name, 1); err == nil {
		f.t.Fatalf("WaitReady of a version whose probe always fails = nil")
	}
	for _, vs := range f.status().Versions {
		if vs.Name == u.Name && (vs.Running != 1 || vs.Ready != 0) {
			f.t.Errorf("status of %s = %+v, want 1 running and 0 ready", u.Name, vs)
		}
	}
	for _, header := range []string{"always", ""} {
		for range 5 {
			if code, body := f.try(header); versionOf(body) == u.Name {
				f.t.Fatalf("a request (canary header %q) reached the unready version: %d %q", header, code, body)
			}
		}
	}
}

func unknownSlot(f *fixture) {
	if _, err := f.tg.Status(f.ctx, "nobody", env); !errors.Is(err, target.ErrUnknownSlot) {
		f.t.Errorf("Status of an unknown slot = %v, want ErrUnknownSlot", err)
	}
	if err := f.tg.WaitReady(f.ctx, "nobody", env, "v1", 1); !errors.Is(err, target.ErrUnknownSlot) {
		f.t.Errorf("WaitReady of an unknown slot = %v, want ErrUnknownSlot", err)
	}
}

func remove(f *fixture) {
	v1, v2 := f.version(0, 1), f.version(1, 1)
	f.apply(target.Route{Stable: v1.Name, Canary: v2.Name, CanaryWeight: 50}, v1, v2)
	bodies, _ := f.spread(4, "")
	endpoint := f.status().Endpoint
	if err := f.tg.Remove(f.ctx, service, env); err != nil {
		f.t.Fatalf("Remove: %v", err)
	}
	f.refused(endpoint)
	if _, err := f.tg.Status(f.ctx, service, env); !errors.Is(err, target.ErrUnknownSlot) {
		f.t.Errorf("Status after Remove = %v, want ErrUnknownSlot", err)
	}
	f.gone(bodies)
}
