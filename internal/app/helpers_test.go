package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/config"
	"github.com/slipway-ci/slipway/internal/engine"
)

// testLimit bounds every wait in these tests; reaching it is a failure,
// never a pass.
const testLimit = 10 * time.Second

// newApp opens an App on a fresh state dir, with no blob grace so that
// sweeps see the blobs the test just wrote.
func newApp(tb testing.TB) *App {
	tb.Helper()
	cfg := config.Default(os.Getenv)
	cfg.StateDir = filepath.Join(tb.TempDir(), "state")
	cfg.Sandbox = "off"
	return openApp(tb, cfg)
}

func openApp(tb testing.TB, cfg config.Config) *App {
	tb.Helper()
	home := tb.TempDir()
	a, err := Open(context.Background(), cfg, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { a.Close() })
	a.BlobGrace = 0
	return a
}

// offOptions are fast engine options: no sandbox, no cache.
func offOptions() engine.Options {
	return engine.Options{Parallel: 2, StepTimeout: time.Minute, RunTimeout: time.Minute,
		Grace: time.Second, Sandbox: "off", NoCache: true}
}

// writeFile writes data at path, creating its directory.
func writeFile(tb testing.TB, path, data string, perm os.FileMode) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		tb.Fatal(err)
	}
}

func exists(tb testing.TB, path string) bool {
	tb.Helper()
	_, err := os.Lstat(path)
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	return err == nil
}

// syncBuffer collects a process's output written from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitOutput waits until buf holds want.
func waitOutput(tb testing.TB, buf *syncBuffer, want string) {
	tb.Helper()
	deadline := time.Now().Add(testLimit)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			tb.Fatalf("no %q in the output after %v: %q", want, testLimit, buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
