package localapi

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var upserver struct {
	once sync.Once
	path string
	err  error
}

// upserverBin builds testdata/upserver once per test binary.
func upserverBin(tb testing.TB) string {
	tb.Helper()
	upserver.once.Do(func() {
		dir, err := os.MkdirTemp("", "localapi-upserver-")
		if err != nil {
			upserver.err = err
			return
		}
		upserver.path = filepath.Join(dir, "upserver")
		out, err := exec.Command("go", "build", "-o", upserver.path, "./testdata/upserver").CombinedOutput()
		if err != nil {
			upserver.err = errors.New("build upserver: " + err.Error() + "\n" + string(out))
		}
	})
	if upserver.err != nil {
		tb.Fatal(upserver.err)
	}
	return upserver.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if upserver.path != "" {
		os.RemoveAll(filepath.Dir(upserver.path))
	}
	os.Exit(code)
}

// waitExit waits until pid is gone (Detach's goroutine reaps it).
func waitExit(tb testing.TB, ctx context.Context, pid int) {
	tb.Helper()
	for pidAlive(pid) {
		select {
		case <-ctx.Done():
			tb.Fatalf("pid %d still alive", pid)
		case <-time.After(pollInterval):
		}
	}
}

func TestEnsureRunningRaceStartsOneServer(t *testing.T) {
	dir := t.TempDir()
	opts := DetachOptions{StateDir: dir, Args: []string{"--state-dir", dir}, Executable: upserverBin(t), Wait: 15 * time.Second}
	t.Cleanup(func() { _ = Stop(context.Background(), dir) }) // a failed test leaves no server behind
	const n = 3
	clients := make([]*Client, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := EnsureRunning(testCtx(t), opts)
			if err != nil {
				t.Error(err)
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	pid := clients[0].Info().PID
	for _, c := range clients {
		if c.Info().PID != pid || c.Addr() != clients[0].Addr() {
			t.Fatalf("clients reached different servers: %+v vs %+v", c.Info(), clients[0].Info())
		}
	}
	if pid == os.Getpid() {
		t.Fatal("server runs in the test process, not a child")
	}
	assertMode(t, LogPath(dir), 0o600)
	if err := Stop(testCtx(t), dir); err != nil {
		t.Fatal(err)
	}
	waitExit(t, testCtx(t), pid)
	if _, err := Dial(testCtx(t), dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("after Stop: %v; want ErrNotRunning (a losing child took over?)", err)
	}
	if b, _ := os.ReadFile(LogPath(dir)); !strings.Contains(string(b), "bye") {
		t.Fatalf("server did not shut down cleanly; log:\n%s", b)
	}
}

func TestDetachReportsEarlyExit(t *testing.T) {
	dir := t.TempDir()
	_, err := Detach(testCtx(t), DetachOptions{StateDir: dir, Args: []string{"--no-such-flag"}, Executable: upserverBin(t)})
	if err == nil || !strings.Contains(err.Error(), "flag provided but not defined") {
		t.Fatalf("Detach: %v; want the child's log tail", err)
	}
}

func TestStopSignalsUnresponsiveServer(t *testing.T) {
	dir := t.TempDir()
	if _, err := Token(dir); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(upserverBin(t), "--state-dir", dir, "--hung")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	mustDo(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx := testCtx(t)
	for {
		if _, err := Dial(ctx, dir); errors.Is(err, ErrNotResponding) {
			if _, ierr := readInfo(dir); ierr == nil {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("hung server exited early: %v\n%s", err, out)
		case <-ctx.Done():
			t.Fatal("hung server never took the lock")
		case <-time.After(pollInterval):
		}
	}
	if err := Stop(ctx, dir); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := <-exited; err != nil || !strings.Contains(out.String(), "got signal") {
		t.Fatalf("hung server: %v\n%s", err, out)
	}
}

func TestUpArgs(t *testing.T) {
	for _, tc := range []struct {
		config, addr string
		want         string
	}{
		{"", "", "up --state-dir /s"},
		{"", "127.0.0.1:0", "up --state-dir /s"},
		{"/c.yaml", "127.0.0.1:8080", "up --state-dir /s --addr 127.0.0.1:8080 --config /c.yaml"},
	} {
		if got := strings.Join(UpArgs("/s", tc.config, tc.addr), " "); got != tc.want {
			t.Errorf("UpArgs(%q, %q) = %q, want %q", tc.config, tc.addr, got, tc.want)
		}
	}
}
