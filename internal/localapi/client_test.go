package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

func testCtx(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

func TestClientDo(t *testing.T) {
	dir := t.TempDir()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/echo", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			WriteError(w, http.StatusBadRequest, err)
			return
		}
		WriteJSON(w, http.StatusOK, map[string]string{"got": in["say"]})
	})
	mux.HandleFunc("GET /v1/conflict", func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, http.StatusConflict, errors.New("production is being deployed"))
	})
	mux.HandleFunc("GET /v1/plain", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "not json", http.StatusBadGateway)
	})
	s := startServer(t, dir, mux)
	c, err := Dial(testCtx(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr() != s.Addr() || c.Info().Version != "test" {
		t.Fatalf("client %s %+v; server %s", c.Addr(), c.Info(), s.Addr())
	}
	var out map[string]string
	if err := c.Do(testCtx(t), "POST", "/v1/echo", map[string]string{"say": "hi"}, &out); err != nil || out["got"] != "hi" {
		t.Fatalf("echo = %v, %v", out, err)
	}
	tests := []struct {
		path    string
		status  int
		message string
	}{
		{"/v1/conflict", 409, "production is being deployed"},
		{"/v1/plain", 502, "not json"},
		{"/v1/unknown", 404, "404 page not found"},
	}
	for _, tt := range tests {
		err := c.Do(testCtx(t), "GET", tt.path, nil, nil)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != tt.status || ae.Message != tt.message {
			t.Errorf("GET %s: %v; want APIError %d %q", tt.path, err, tt.status, tt.message)
		}
		if !IsStatus(err, tt.status) {
			t.Errorf("IsStatus(%v, %d) = false", err, tt.status)
		}
	}
}

func TestClientStream(t *testing.T) {
	dir := t.TempDir()
	startServer(t, dir, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		lw := NewLineWriter(w)
		for i := range 5 {
			if err := lw.Write(map[string]int{"step": i}); err != nil {
				return
			}
		}
	}))
	c, err := Dial(testCtx(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	err = c.Stream(testCtx(t), "GET", "/v1/progress", nil, func(line []byte) error {
		var ev struct{ Step int }
		if err := json.Unmarshal(line, &ev); err != nil {
			return err
		}
		steps = append(steps, ev.Step)
		return nil
	})
	if err != nil || fmt.Sprint(steps) != "[0 1 2 3 4]" {
		t.Fatalf("Stream: steps %v, err %v", steps, err)
	}
	stop := errors.New("enough")
	n := 0
	err = c.Stream(testCtx(t), "GET", "/v1/progress", nil, func([]byte) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("Stream with stopping callback: n=%d err=%v", n, err)
	}
}

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(tb testing.TB) int {
	tb.Helper()
	cmd := exec.Command("true")
	mustDo(tb, cmd.Run())
	return cmd.Process.Pid
}

func writeStaleInfo(tb testing.TB, dir string) {
	tb.Helper()
	mustDo(tb, ensureUpDir(dir))
	if _, err := Token(dir); err != nil {
		tb.Fatal(err)
	}
	b, _ := json.Marshal(Info{Addr: "127.0.0.1:1", PID: deadPID(tb), Started: time.Now()})
	mustDo(tb, os.WriteFile(infoPath(dir), b, 0o600))
	mustDo(tb, os.WriteFile(lockPath(dir), nil, 0o600))
}

func TestDialAfterUncleanKill(t *testing.T) {
	dir := t.TempDir()
	if _, err := Dial(testCtx(t), dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Dial on an empty state dir: %v; want ErrNotRunning", err)
	}
	writeStaleInfo(t, dir)
	if _, err := Dial(testCtx(t), dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Dial with stale info.json: %v; want ErrNotRunning", err)
	}
	if _, err := os.Stat(infoPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale info.json not removed: %v", err)
	}
}

func TestDialKeepsInfoWhileLockHeld(t *testing.T) {
	dir := t.TempDir()
	writeStaleInfo(t, dir)
	l, err := tryLock(dir) // a server that holds the lock but does not answer
	if err != nil {
		t.Fatal(err)
	}
	defer l.release()
	if _, err := Dial(testCtx(t), dir); !errors.Is(err, ErrNotResponding) {
		t.Fatalf("Dial: %v; want ErrNotResponding", err)
	}
	if _, err := os.Stat(infoPath(dir)); err != nil {
		t.Fatalf("info.json removed while the lock was held: %v", err)
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add([]byte(`{"addr":"127.0.0.1:4000","pid":12,"started":"2025-01-01T00:00:00Z","version":"v1"}`))
	f.Add([]byte(`{"pid":-1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := parseInfo(b)
		if err == nil && (info.PID <= 0 || info.Addr == "") {
			t.Fatalf("accepted %q as %+v", b, info)
		}
	})
}

func FuzzDecodeAPIError(f *testing.F) {
	f.Add(404, []byte(`{"error":"no such deployment"}`))
	f.Add(500, []byte("panic\n"))
	f.Add(502, []byte(`{"error":""}`))
	f.Fuzz(func(t *testing.T, status int, b []byte) {
		e := decodeAPIError(status, b)
		if e.Status != status || e.Message == "" && http.StatusText(status) != "" {
			t.Fatalf("decodeAPIError(%d, %q) = %+v", status, b, e)
		}
	})
}
