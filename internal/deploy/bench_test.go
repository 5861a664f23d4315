package deploy

import (
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
)

// The performance goals, measured with the real controller, the
// real local target (hello replicas, the router), a sqlite store and a
// loopback load generator reading X-Slipway-Version. Each benchmark runs a
// fixed number of repetitions per b.N and reports medians; `make bench`
// runs them with -benchtime 1x.

// The probes check every 100 ms: a local workload's readiness is known
// within one interval, and the figures below include it.
const benchYAML = `environments:
  canary:
    target: local
    strategy: canary
    scale-down-delay: 200ms
    stop-grace: 2s
    probes: {readiness: {path: /healthz, interval: 100ms}}
    canary:
      analysis: errors
      steps:
        - set-weight: 50
        - pause: {duration: 2m}
    analysis:
      errors:
        metrics:
          - name: error-rate
            interval: 1s
            failureLimit: 1
            successCondition: result < 0.05
            provider: {builtin: {metric: error-rate}}
  bluegreen:
    target: local
    strategy: blue-green
    blue-green: {scale-down-delay: 200ms}
    stop-grace: 2s
    probes: {readiness: {path: /healthz, interval: 100ms}}
  running:
    target: local
    strategy: blue-green
    blue-green: {scale-down-delay: 10m}
    stop-grace: 2s
    probes: {readiness: {path: /healthz, interval: 100ms}}
  stopped:
    target: local
    strategy: blue-green
    blue-green: {scale-down-delay: 200ms}
    stop-grace: 2s
    probes: {readiness: {path: /healthz, interval: 100ms}}
`

const (
	autoReps     = 3
	switchReps   = 5
	rollbackReps = 3
)

// BenchmarkAutoRollback canaries a version answering half its requests
// with 500 under background analysis (builtin error-rate, interval 1s,
// failureLimit 1) and measures (a) from the deciding failed measurement
// and (b) from the canary's first response to all traffic being on stable:
// the later of the rolled-back record and the canary's last response.
func BenchmarkAutoRollback(b *testing.B) {
	r := newRealRig(b, benchYAML)
	v1 := r.images.Push(b, "v1.0.0", "-version", "v1.0.0")
	bad := r.images.Push(b, "v2.0.0", "-version", "v2.0.0", "-error-rate", "0.5")
	r.deploy("canary", v1)
	url := r.endpoint("canary")
	var decided, fromErrors, record, traffic []time.Duration
	for range b.N * autoReps {
		l := startLoad(r.ctx, url)
		d := r.wait(r.start("canary", bad).ID, store.DeployRolledBack)
		time.Sleep(300 * time.Millisecond) // responses after the switch, to show none is the canary's
		hits := l.finish()
		at := r.deciding(d)
		first, ok1 := firstOf(hits, bad.Name, time.Time{})
		last, ok2 := lastOf(hits, bad.Name)
		if !ok1 || !ok2 {
			b.Fatalf("the canary received no traffic (%d requests)", len(hits))
		}
		stable := later(d.Finished, last.got)
		decided = append(decided, stable.Sub(at))
		fromErrors = append(fromErrors, stable.Sub(first.sent))
		record = append(record, d.Finished.Sub(at))
		traffic = append(traffic, last.got.Sub(at))
		if n := failures(hits, bad.Name); n > 0 {
			b.Errorf("%d requests failed outside the canary", n)
		}
		r.settled("canary", v1.Name)
	}
	report(b, "auto-rollback: deciding measurement to 100% stable", "ms/decided-to-stable", decided, time.Second)
	report(b, "auto-rollback: first canary response to 100% stable", "ms/errors-to-stable", fromErrors, 5*time.Second)
	report(b, "auto-rollback: deciding measurement to rolled-back record", "ms/decided-to-record", record, time.Second)
	report(b, "auto-rollback: deciding measurement to last canary response", "ms/decided-to-traffic", traffic, time.Second)
}

// deciding is when the measurement that failed d's analysis was taken.
func (r *realRig) deciding(d *store.Deployment) time.Time {
	r.tb.Helper()
	ms, err := r.store.Deployments().Measurements(r.ctx, d.ID)
	if err != nil {
		r.tb.Fatal(err)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Phase == "failed" {
			return ms[i].At
		}
	}
	r.tb.Fatalf("deployment %d rolled back (%s) without a failed measurement: %+v", d.ID, d.Reason, ms)
	return time.Time{}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// BenchmarkBlueGreenSwitch deploys blue and green in turn and measures the
// switch: the switching Apply itself, and the window seen by the load from
// the first green response to the start of the green-only stretch (or the
// gap after the last blue response when they do not overlap).
func BenchmarkBlueGreenSwitch(b *testing.B) {
	r := newRealRig(b, benchYAML)
	vs := []target.Version{r.images.Push(b, "v1.0.0", "-version", "v1.0.0"), r.images.Push(b, "v1.0.1", "-version", "v1.0.1")}
	r.deploy("bluegreen", vs[0])
	url := r.endpoint("bluegreen")
	var applies, windows []time.Duration
	for i := range b.N * switchReps {
		blue, green := vs[i%2], vs[(i+1)%2]
		l := startLoad(r.ctx, url)
		since := time.Now()
		r.deploy("bluegreen", green)
		time.Sleep(200 * time.Millisecond)
		hits := l.finish()
		a, ok := r.tg.firstApply(since, target.Route{Stable: green.Name})
		only, ok1 := onlyFrom(hits, green.Name)
		first, ok2 := firstOf(hits, green.Name, since)
		lastBlue, ok3 := lastOf(hits, blue.Name)
		if !ok || !ok1 || !ok2 || !ok3 {
			b.Fatalf("switch not seen: apply %v, green-only %v, green %v, blue %v", ok, ok1, ok2, ok3)
		}
		applies = append(applies, a.end.Sub(a.start))
		windows = append(windows, only.got.Sub(earlier(first.got, lastBlue.got)))
		if n := failures(hits, ""); n > 0 {
			b.Errorf("%d requests failed during the switch", n)
		}
		r.settled("bluegreen", green.Name)
	}
	report(b, "blue-green switch: the switching Apply", "ms/switch-apply", applies, 100*time.Millisecond)
	report(b, "blue-green switch: mixed or silent window seen by the load", "ms/switch-window", windows, 100*time.Millisecond)
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// BenchmarkRollbackCommand measures Controller.Rollback from the call to
// all traffic on the previous version: while that version still runs
// (scale-down-delay 10m: a switch) and after it was scaled down (200ms: a
// redeploy by digest). Each repetition rolls back to the other version.
func BenchmarkRollbackCommand(b *testing.B) {
	r := newRealRig(b, benchYAML)
	vs := []target.Version{r.images.Push(b, "v1.0.0", "-version", "v1.0.0"), r.images.Push(b, "v1.0.1", "-version", "v1.0.1")}
	for _, c := range []struct {
		env  string
		goal time.Duration
	}{{"running", time.Second}, {"stopped", 10 * time.Second}} {
		r.deploy(c.env, vs[0])
		r.deploy(c.env, vs[1])
		url := r.endpoint(c.env)
		var took []time.Duration
		for i := range b.N * rollbackReps {
			prev := vs[i%2]
			if c.env == "stopped" {
				r.settled(c.env, vs[(i+1)%2].Name)
			}
			l := startLoad(r.ctx, url)
			time.Sleep(100 * time.Millisecond) // traffic on the current version first
			called := time.Now()
			res, err := r.c.Rollback(r.ctx, Request{Env: r.spec.Environment(c.env), Actor: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			d := r.wait(res.Deployment.ID, store.DeploySucceeded)
			if d.Version != prev.Name {
				b.Fatalf("rolled back to %s, want %s", d.Version, prev.Name)
			}
			time.Sleep(200 * time.Millisecond)
			hits := l.finish()
			only, ok := onlyFrom(hits, prev.Name)
			if !ok || !only.got.After(called) {
				b.Fatalf("traffic not seen moving to %s", prev.Name)
			}
			took = append(took, only.got.Sub(called))
			if n := failures(hits, ""); n > 0 {
				b.Errorf("%d requests failed during the rollback", n)
			}
		}
		if c.env == "stopped" {
			// Let the scale-down finish: closing the controller during
			// it would cancel a replica's stop half-way.
			r.settled(c.env, vs[(b.N*rollbackReps-1)%2].Name)
		}
		report(b, "rollback command, previous version "+c.env, "ms/rollback-"+c.env, took, c.goal)
	}
}
