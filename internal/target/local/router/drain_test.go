package router

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSwitchUnderLoad switches blue to green while 8 clients send requests:
// no request that starts after SetRoute returns reaches blue, and no request
// at all reaches blue after Drain("blue") returns.
func TestSwitchUnderLoad(t *testing.T) {
	var switched, drained atomic.Bool
	var lateArrivals atomic.Int64
	blue := startBackend(t, "blue", func(http.ResponseWriter, *http.Request) bool {
		if drained.Load() {
			lateArrivals.Add(1)
		}
		return false
	})
	green := startBackend(t, "green", nil)
	r := New(Options{})
	mustSetBackends(t, r, "blue", blue)
	mustSetBackends(t, r, "green", green)
	mustSetRoute(t, r, Route{Stable: "blue", Canary: "green"})
	url := serve(t, r)

	const clients, after = 8, 50
	var wg sync.WaitGroup
	var afterDrain atomic.Int64
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for afterDrain.Load() < clients*after {
				startedAfterSwitch := switched.Load()
				rep, err := tryGet(http.DefaultClient, url)
				switch {
				case err != nil:
					errs <- err
					return
				case rep.code != http.StatusOK:
					errs <- errors.New("status " + http.StatusText(rep.code))
					return
				case startedAfterSwitch && rep.backend != "green":
					errs <- errors.New("request started after the switch went to " + rep.backend)
					return
				}
				if drained.Load() {
					afterDrain.Add(1)
				}
			}
		})
	}
	// Switch only once blue has been serving under load.
	for blue.hits.Load() < 200 {
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
	}
	mustSetRoute(t, r, Route{Stable: "green", Canary: "blue"}) // blue stays reachable by header only
	switched.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Drain(ctx, "blue"); err != nil {
		t.Fatal(err)
	}
	drained.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := lateArrivals.Load(); n != 0 {
		t.Errorf("%d requests reached blue after Drain returned", n)
	}
	if green.hits.Load() < clients*after {
		t.Errorf("green served only %d requests", green.hits.Load())
	}
}

// TestSlowRequestAcrossSwitch: a request in flight on blue when traffic
// switches to green completes normally; Drain honours its context while it
// runs and returns once it finishes.
func TestSlowRequestAcrossSwitch(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	blue := startBackend(t, "blue", func(w http.ResponseWriter, req *http.Request) bool {
		if req.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		return false
	})
	green := startBackend(t, "green", nil)
	r := New(Options{})
	mustSetBackends(t, r, "blue", blue)
	mustSetBackends(t, r, "green", green)
	mustSetRoute(t, r, Route{Stable: "blue"})
	url := serve(t, r)

	slow := make(chan reply, 1)
	go func() {
		rep, err := tryGet(http.DefaultClient, url+"/slow")
		if err != nil {
			rep.body = err.Error()
		}
		slow <- rep
	}()
	<-entered
	mustSetRoute(t, r, Route{Stable: "green"})
	if rep := get(t, http.DefaultClient, url); rep.backend != "green" {
		t.Fatalf("after the switch a new request went to %q", rep.backend)
	}
	if n := r.InFlight("blue"); n != 1 {
		t.Fatalf("InFlight(blue) = %d, want 1", n)
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Drain(cancelled, "blue"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Drain(cancelled ctx) = %v, want context.Canceled", err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if err := r.Drain(short, "blue"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain(expiring ctx) = %v, want context.DeadlineExceeded", err)
	}

	drainDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		drainDone <- r.Drain(ctx, "blue")
	}()
	close(release)
	if rep := <-slow; rep.code != http.StatusOK || rep.body != "blue" {
		t.Fatalf("slow request: %d %q, want 200 from blue", rep.code, rep.body)
	}
	if err := <-drainDone; err != nil {
		t.Fatalf("Drain after the slow request: %v", err)
	}
	if err := r.Drain(context.Background(), "never-routed"); err != nil {
		t.Errorf("Drain(unknown version) = %v", err)
	}
}

// TestServeShutdownWaitsForInFlight: cancelling Serve's context does not
// cut a running request, and Serve returns nil once it is done.
func TestServeShutdownWaitsForInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	b := startBackend(t, "v1", func(http.ResponseWriter, *http.Request) bool {
		close(entered)
		<-release
		return false
	})
	r := New(Options{})
	mustSetBackends(t, r, "v1", b)
	mustSetRoute(t, r, Route{Stable: "v1"})
	ctx, cancel := context.WithCancel(context.Background())
	ln := listen(t)
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx, ln) }()

	slow := make(chan reply, 1)
	go func() {
		rep, err := tryGet(http.DefaultClient, "http://"+ln.Addr().String())
		if err != nil {
			rep.body = err.Error()
		}
		slow <- rep
	}()
	<-entered
	cancel()
	// Shutdown has begun once the listener refuses connections; only then
	// let the backend answer.
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		_ = c.Close()
	}
	close(release)
	if rep := <-slow; rep.code != http.StatusOK || rep.body != "v1" {
		t.Fatalf("in-flight request during shutdown: %d %q", rep.code, rep.body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
}

// TestDrainRaceWithChoice holds a request between choosing blue and
// entering it while blue is switched out and drained: the request must
// notice the new route and go to green, since Drain already returned.
func TestDrainRaceWithChoice(t *testing.T) {
	blue, green := startBackend(t, "blue", nil), startBackend(t, "green", nil)
	r := New(Options{})
	mustSetBackends(t, r, "blue", blue)
	mustSetBackends(t, r, "green", green)
	mustSetRoute(t, r, Route{Stable: "blue"})
	chosen, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r.afterChoose = func() {
		once.Do(func() {
			close(chosen)
			<-resume
		})
	}
	url := serve(t, r)

	got := make(chan reply, 1)
	go func() {
		rep, err := tryGet(http.DefaultClient, url)
		if err != nil {
			rep.body = err.Error()
		}
		got <- rep
	}()
	<-chosen
	mustSetRoute(t, r, Route{Stable: "green"})
	if err := r.Drain(context.Background(), "blue"); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if rep := <-got; rep.backend != "green" {
		t.Fatalf("request held across switch and Drain went to %q (%d %s)", rep.backend, rep.code, rep.body)
	}
	if n := blue.hits.Load(); n != 0 {
		t.Fatalf("blue got %d requests after Drain returned", n)
	}
}
