package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startServer serves dir in-process and shuts it down (as its owner would)
// on ShutdownRequested or at the end of the test.
func startServer(tb testing.TB, dir string, h http.Handler) *Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Serve(ctx, Options{StateDir: dir, Handler: h, Version: "test", Logf: tb.Logf})
	if err != nil {
		tb.Fatal(err)
	}
	go func() {
		<-s.ShutdownRequested()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}()
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestAuthGuardsEveryRoute(t *testing.T) {
	dir := t.TempDir()
	var reached atomic.Bool
	s := startServer(t, dir, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Store(true)
		WriteJSON(w, http.StatusOK, "owner")
	}))
	tok, err := Token(dir)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Repeat("0", 64)
	tests := []struct {
		name, method, path, auth string
		want                     int
	}{
		{"ping without header", "GET", "/v1/ping", "", 401},
		{"ping wrong token", "GET", "/v1/ping", "Bearer " + wrong, 401},
		{"ping wrong scheme", "GET", "/v1/ping", "Basic " + tok, 401},
		{"ping token without scheme", "GET", "/v1/ping", tok, 401},
		{"ping token prefix", "GET", "/v1/ping", "Bearer " + tok[:63], 401},
		{"unknown route without token", "GET", "/nope", "", 401},
		{"owner route without token", "POST", "/v1/deployments", "", 401},
		{"shutdown without token", "POST", "/v1/shutdown", "Bearer " + wrong, 401},
		{"ping", "GET", "/v1/ping", "Bearer " + tok, 200},
		{"ping scheme case-insensitive", "GET", "/v1/ping", "bearer " + tok, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, "http://"+s.Addr()+tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 401 {
				var eb errorBody
				if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Error == "" {
					t.Fatalf("401 body: %+v, %v; want {\"error\": ...}", eb, err)
				}
			}
		})
	}
	if reached.Load() {
		t.Fatal("the owner's handler was reached without a token")
	}
	select {
	case <-s.ShutdownRequested():
		t.Fatal("an unauthenticated shutdown was honoured")
	default:
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		t.Run(addr, func(t *testing.T) {
			_, err := Serve(context.Background(), Options{StateDir: t.TempDir(), Addr: addr})
			if err == nil || !strings.Contains(err.Error(), addr) {
				t.Fatalf("Serve(%q) = %v; want an error naming the address", addr, err)
			}
		})
	}
	s, err := Serve(context.Background(), Options{StateDir: t.TempDir(), Addr: "localhost:0"})
	if err != nil {
		t.Fatalf("localhost refused: %v", err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("addr %s", s.Addr())
	}
	mustDo(t, s.Close())
}

func TestSecondServerGetsRunningError(t *testing.T) {
	dir := t.TempDir()
	first := startServer(t, dir, nil)
	_, err := Serve(context.Background(), Options{StateDir: dir})
	var re *RunningError
	if !errors.As(err, &re) {
		t.Fatalf("second Serve: %v; want *RunningError", err)
	}
	if re.PID != os.Getpid() || re.Addr != first.Addr() || re.Started.IsZero() {
		t.Fatalf("RunningError %+v does not describe the first server (%s)", re, first.Addr())
	}
	if !strings.Contains(re.Error(), first.Addr()) {
		t.Fatalf("message %q does not say where it runs", re.Error())
	}
}

func TestShutdownCleansUpAndFreesStateDir(t *testing.T) {
	dir := t.TempDir()
	s, err := Serve(context.Background(), Options{StateDir: dir, Version: "v9"})
	if err != nil {
		t.Fatal(err)
	}
	assertMode(t, infoPath(dir), 0o600)
	info, err := readInfo(dir)
	if err != nil || info != s.Info() || info.Version != "v9" {
		t.Fatalf("info.json = %+v, %v; want %+v", info, err, s.Info())
	}
	mustDo(t, s.Shutdown(context.Background()))
	<-s.Done()
	if _, err := os.Stat(infoPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("info.json after shutdown: %v", err)
	}
	again, err := Serve(context.Background(), Options{StateDir: dir})
	if err != nil {
		t.Fatalf("restart after shutdown: %v", err)
	}
	mustDo(t, again.Close())
	mustDo(t, again.Close()) // idempotent
}
