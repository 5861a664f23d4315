package registry

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestServeIsExclusive(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir, Holder: HolderUp})

	_, err := Serve(context.Background(), Options{StateDir: dir, Holder: HolderRun})
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second Serve: err = %v, want *HeldError", err)
	}
	if held.Holder != HolderUp || held.Addr != s.Addr() || held.PID != os.Getpid() {
		t.Fatalf("HeldError = %+v, want up at %s pid %d", held.Info, s.Addr(), os.Getpid())
	}
	if want := "registry for " + dir + " is served by up (pid "; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}

	info, ok, err := Running(dir)
	if err != nil || !ok || info.Addr != s.Addr() || info.Holder != HolderUp || info.Started.IsZero() {
		t.Fatalf("Running = %+v, %v, %v", info, ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := Running(dir); ok || err != nil {
		t.Fatalf("Running after Close = %v, %v", ok, err)
	}
	// The lock is free again.
	serve(t, Options{StateDir: dir})
}

func TestRunningIgnoresStaleLockFile(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := Running(dir); ok || err != nil {
		t.Fatalf("Running on empty dir = %v, %v", ok, err)
	}
	if err := os.MkdirAll(registryDir(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	stale := `{"addr":"127.0.0.1:1","holder":"up","pid":1,"started":"2020-01-01T00:00:00Z"}`
	if err := os.WriteFile(lockPath(dir), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if info, ok, err := Running(dir); ok || err != nil {
		t.Fatalf("Running with stale file = %+v, %v, %v", info, ok, err)
	}
}

// TestLockAcrossProcesses serves from a child process, checks this process
// sees it and cannot serve, then kills the child with SIGKILL: its lock
// file stays behind but no longer counts.
func TestLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	addr := strings.TrimSpace(line)

	info, ok, err := Running(dir)
	if err != nil || !ok || info.Addr != addr || info.PID != cmd.Process.Pid || info.Holder != HolderRegistry {
		t.Fatalf("Running = %+v, %v, %v; want child %d at %s", info, ok, err, cmd.Process.Pid, addr)
	}
	// A registry holder is never waited for, even with Wait.
	start := time.Now()
	_, err = Serve(context.Background(), Options{StateDir: dir, Holder: HolderUp, Wait: true})
	var held *HeldError
	if !errors.As(err, &held) || held.PID != cmd.Process.Pid {
		t.Fatalf("Serve while child serves: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("Serve waited %v for a registry holder", time.Since(start))
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if b, _ := os.ReadFile(lockPath(dir)); len(b) == 0 {
		t.Fatal("killed holder left no lock content; the stale case is not exercised")
	}
	if info, ok, err := Running(dir); ok || err != nil {
		t.Fatalf("Running after holder was killed = %+v, %v, %v", info, ok, err)
	}
	serve(t, Options{StateDir: dir, Holder: HolderUp})
}

func TestUpWaitsForRunToHandOver(t *testing.T) {
	dir := t.TempDir()
	run, err := Serve(context.Background(), Options{StateDir: dir, Holder: HolderRun})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		s   *Server
		err error
	}
	got := make(chan result, 1)
	go func() {
		s, err := Serve(context.Background(), Options{StateDir: dir, Holder: HolderUp, Wait: true})
		got <- result{s, err}
	}()
	select {
	case r := <-got:
		t.Fatalf("up did not wait for run: %v", r.err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := run.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatal(r.err)
		}
		defer r.s.Close()
		info, ok, _ := Running(dir)
		if !ok || info.Holder != HolderUp || info.Addr != r.s.Addr() {
			t.Fatalf("after handover Running = %+v, %v", info, ok)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("up did not take over after run closed")
	}
}

func TestWaitHonoursContext(t *testing.T) {
	dir := t.TempDir()
	serve(t, Options{StateDir: dir, Holder: HolderRun})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Serve(ctx, Options{StateDir: dir, Holder: HolderUp, Wait: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestServeStopsWithContext(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Serve(ctx, Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok, _ := Running(dir); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("registry still held after ctx was cancelled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEnsure(t *testing.T) {
	dir := t.TempDir()
	addr, release, err := Ensure(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	info, ok, _ := Running(dir)
	if !ok || info.Holder != HolderRun || info.Addr != addr {
		t.Fatalf("Ensure served %s; Running = %+v, %v", addr, info, ok)
	}
	// A second user shares the running registry and its release is a no-op.
	addr2, release2, err := Ensure(context.Background(), dir, nil)
	if err != nil || addr2 != addr {
		t.Fatalf("second Ensure = %s, %v; want %s", addr2, err, addr)
	}
	if err := release2(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := Running(dir); !ok {
		t.Fatal("no-op release stopped the registry")
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := Running(dir); ok {
		t.Fatal("release did not stop the in-process registry")
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0", "192.0.2.1:5000", "nohost"} {
		if _, err := Serve(context.Background(), Options{StateDir: t.TempDir(), Addr: addr}); err == nil {
			t.Errorf("Serve(%q) succeeded", addr)
		}
	}
}

func TestFilePermissions(t *testing.T) {
	dir := t.TempDir()
	serve(t, Options{StateDir: dir})
	if err := ProtectTag(dir, "staging"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		registryDir(dir):   0o700 | os.ModeDir,
		dataDir(dir):       0o700 | os.ModeDir,
		lockPath(dir):      0o600,
		credsPath(dir):     0o600,
		protectedPath(dir): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode = %v, want %v", path, fi.Mode(), want)
		}
	}
}

// FuzzParseInfo checks that whatever a lock file holds, parsing it never
// panics and a parsed Info survives a round trip.
func FuzzParseInfo(f *testing.F) {
	f.Add([]byte(`{"addr":"127.0.0.1:5000","holder":"up","pid":42,"started":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"pid":"x"}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		info := parseInfo(b)
		again, err := json.Marshal(info)
		if err != nil {
			return // e.g. a year outside RFC 3339
		}
		if got := parseInfo(again); got != info && !got.Started.Equal(info.Started) {
			t.Fatalf("round trip %+v -> %+v", info, got)
		}
	})
}

// TestCloseIsPrompt: a connection that never sent a request (clients dial
// spares) must not hold Close for net/http's 5 s grace.
func TestCloseIsPrompt(t *testing.T) {
	s, err := Serve(context.Background(), Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(50 * time.Millisecond) // let the server accept it
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
}
