package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/target/local"
	"github.com/slipway-ci/slipway/internal/target/targettest"
)

// TestMain fails when a test leaves a replica behind.
func TestMain(m *testing.M) { targettest.Main(m) }

// timedTarget is the real local target with every Apply's span recorded,
// so a benchmark can tell how long the switching Apply took.
type timedTarget struct {
	*local.Target
	mu      sync.Mutex
	applies []appliedAt
}

type appliedAt struct {
	route      target.Route
	start, end time.Time
}

func (t *timedTarget) Apply(ctx context.Context, d target.Desired) error {
	start := time.Now()
	err := t.Target.Apply(ctx, d)
	t.mu.Lock()
	t.applies = append(t.applies, appliedAt{route: d.Route, start: start, end: time.Now()})
	t.mu.Unlock()
	return err
}

// firstApply is the first Apply after since whose route is exactly r.
func (t *timedTarget) firstApply(since time.Time, r target.Route) (appliedAt, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range t.applies {
		if !a.start.Before(since) && a.route == r {
			return a, true
		}
	}
	return appliedAt{}, false
}

// realRig is the real controller over a sqlite store, the real local
// target and a real registry of hello images; the admitter is the fake.
// The benchmarks and the real-target tests share it.
type realRig struct {
	tb     testing.TB
	ctx    context.Context
	tg     *timedTarget
	c      *Controller
	store  store.Store
	spec   *pipeline.Spec
	images *targettest.Images
}

func newRealRig(tb testing.TB, yaml string, opts ...func(*Options)) *realRig {
	tb.Helper()
	spec, err := pipeline.Parse("bench.yaml", []byte("steps:\n  a: {run: 'true'}\n"+yaml), nil)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	tb.Cleanup(cancel)
	r := &realRig{tb: tb, ctx: ctx, store: openStore(tb), spec: spec, images: targettest.NewImages(tb)}
	lt, err := local.New(ctx, local.Options{Dir: tb.TempDir(), Fetch: r.images.Fetch})
	if err != nil {
		tb.Fatal(err)
	}
	r.tg = &timedTarget{Target: lt}
	o := Options{Store: r.store.Deployments(), Target: r.tg, Admit: &fakeAdmitter{}, RollbackWait: 30 * time.Second,
		Logf: func(f string, a ...any) {
			if testing.Verbose() {
				tb.Logf(f, a...)
			}
		}}
	for _, opt := range opts {
		opt(&o)
	}
	r.c = New(o)
	tb.Cleanup(r.close)
	return r
}

// close stops the controller, then every slot's replicas and routers.
func (r *realRig) close() {
	r.c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, e := range r.spec.Environments {
		if err := r.tg.Remove(ctx, "hello", e.Name); err != nil && !errors.Is(err, target.ErrUnknownSlot) {
			r.tb.Errorf("remove %s: %v", e.Name, err)
		}
	}
	if err := r.tg.Close(); err != nil {
		r.tb.Error(err)
	}
}

// start starts deploying v to env (downgrades allowed: benchmarks toggle).
func (r *realRig) start(env string, v target.Version) *store.Deployment {
	r.tb.Helper()
	res, err := r.c.Start(r.ctx, Request{Env: r.spec.Environment(env), Repo: v.Repo, Digest: v.Digest,
		Version: v.Name, Actor: "bench", AllowDowngrade: true})
	if err != nil {
		r.tb.Fatal(err)
	}
	return res.Deployment
}

// wait waits for deployment id to end and checks it ended in want.
func (r *realRig) wait(id int64, want store.DeployState) *store.Deployment {
	r.tb.Helper()
	d, err := r.c.Wait(r.ctx, id, nil)
	if err != nil {
		r.tb.Fatal(err)
	}
	if d.State != want {
		r.tb.Fatalf("deployment %d (%s) is %s (%s), want %s", d.ID, d.Version, d.State, d.Reason, want)
	}
	return d
}

// deploy deploys v to env and waits for its success.
func (r *realRig) deploy(env string, v target.Version) *store.Deployment {
	r.tb.Helper()
	return r.wait(r.start(env, v).ID, store.DeploySucceeded)
}

// endpoint is where env's router serves.
func (r *realRig) endpoint(env string) string {
	r.tb.Helper()
	st, err := r.tg.Status(r.ctx, "hello", env)
	if err != nil {
		r.tb.Fatal(err)
	}
	return st.Endpoint
}

// settled waits until env runs only version, all its replicas ready (the
// scale-down after a switch is done).
func (r *realRig) settled(env, version string) {
	r.tb.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, time.Minute)
	defer cancel()
	for {
		st, err := r.tg.Status(ctx, "hello", env)
		if err == nil && len(st.Versions) == 1 && st.Versions[0].Name == version &&
			st.Versions[0].Ready == st.Versions[0].Replicas && st.Versions[0].Running == st.Versions[0].Replicas {
			return
		}
		select {
		case <-ctx.Done():
			r.tb.Fatalf("%s did not settle on %s only: %+v, %v", env, version, st, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// hit is one request of the load generator.
type hit struct {
	sent, got time.Time
	version   string // X-Slipway-Version; "" when no response
	code      int
}

// load is a bounded loopback load generator: workers send GET / back to
// back over kept-alive connections until stop or its time limit.
type load struct {
	stop func()
	wg   sync.WaitGroup
	mu   sync.Mutex
	hits []hit
}

const (
	loadWorkers = 4
	loadLimit   = 2 * time.Minute // no benchmark iteration takes that long
)

func startLoad(ctx context.Context, url string) *load {
	ctx, stop := context.WithTimeout(ctx, loadLimit)
	l := &load{stop: stop}
	client := &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: loadWorkers, DisableCompression: true}}
	for range loadWorkers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			var mine []hit
			for ctx.Err() == nil {
				mine = append(mine, send(ctx, client, url))
			}
			l.mu.Lock()
			l.hits = append(l.hits, mine...)
			l.mu.Unlock()
		}()
	}
	return l
}

func send(ctx context.Context, client *http.Client, url string) hit {
	h := hit{sent: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the header matters
			resp.Body.Close()
			h.version, h.code = resp.Header.Get("X-Slipway-Version"), resp.StatusCode
		}
	}
	h.got = time.Now()
	return h
}

// finish stops the load and returns its hits, ordered by response time;
// requests cut short by the stop itself are dropped.
func (l *load) finish() []hit {
	stopped := time.Now()
	l.stop()
	l.wg.Wait()
	hits := slices.DeleteFunc(l.hits, func(h hit) bool { return h.code == 0 && !h.got.Before(stopped) })
	sort.Slice(hits, func(i, j int) bool { return hits[i].got.Before(hits[j].got) })
	return hits
}

// lastOf is the last response from version (ok false when none).
func lastOf(hits []hit, version string) (hit, bool) {
	for i := len(hits) - 1; i >= 0; i-- {
		if hits[i].version == version {
			return hits[i], true
		}
	}
	return hit{}, false
}

// firstOf is the first response from version after since.
func firstOf(hits []hit, version string, since time.Time) (hit, bool) {
	for _, h := range hits {
		if h.version == version && h.got.After(since) {
			return h, true
		}
	}
	return hit{}, false
}

// onlyFrom is when the stretch of responses from version alone begins:
// the first of its responses after the last response from anything else.
func onlyFrom(hits []hit, version string) (hit, bool) {
	i := len(hits)
	for i > 0 && hits[i-1].version == version {
		i--
	}
	if i == len(hits) {
		return hit{}, false
	}
	return hits[i], true
}

// failures counts requests that did not get a 200, except from version
// except (the one meant to fail).
func failures(hits []hit, except string) int {
	n := 0
	for _, h := range hits {
		if h.code != http.StatusOK && (except == "" || h.version != except) {
			n++
		}
	}
	return n
}

// median of ds, in milliseconds.
func medianMS(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[len(s)/2].Microseconds()) / 1000
}

// report sets metric (ms, median of ds) with its goal and prints the line
// `make bench` shows.
func report(b *testing.B, name, unit string, ds []time.Duration, goal time.Duration) {
	b.Helper()
	m := medianMS(ds)
	g := float64(goal.Milliseconds())
	b.ReportMetric(m, unit)
	fmt.Printf("%s: measured %.1f ms (median of %d: %s; goal %.0f ms, ratio %.2f)\n", name, m, len(ds), fmtMS(ds), g, m/g)
}

func fmtMS(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.1f", float64(d.Microseconds())/1000)
	}
	return strings.Join(parts, " ")
}
