package localapi

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
)

func TestStopNothingRunning(t *testing.T) {
	if err := Stop(testCtx(t), t.TempDir()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Stop: %v; want ErrNotRunning", err)
	}
}

func TestStopDrainsInFlightRequest(t *testing.T) {
	dir := t.TempDir()
	entered, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	s := startServer(t, dir, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		finished.Store(true)
		WriteJSON(w, http.StatusOK, "done")
	}))
	c, err := Dial(testCtx(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	slow := make(chan error, 1)
	go func() {
		var out string
		err := c.Do(testCtx(t), "GET", "/v1/slow", nil, &out)
		if err == nil && out != "done" {
			err = errors.New("answer " + out)
		}
		slow <- err
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- Stop(testCtx(t), dir) }()
	select {
	case <-s.ShutdownRequested(): // Stop has asked; the request is still in flight
	case err := <-stopped:
		t.Fatalf("Stop returned before asking for shutdown: %v", err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a request was in flight", err)
	default:
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !finished.Load() {
		t.Fatal("Stop returned before the in-flight request finished")
	}
	if err := <-slow; err != nil {
		t.Fatalf("in-flight request was cut: %v", err)
	}
	<-s.Done()
	if _, err := Dial(testCtx(t), dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Dial after Stop: %v; want ErrNotRunning", err)
	}
}
