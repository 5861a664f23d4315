package local

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ref
		err  string
	}{
		{in: `{"pgid":42,"start":7,"boot":"b","pipe":9}`, want: ref{PGID: 42, Start: 7, Boot: "b", Pipe: 9}},
		{in: ` {"start":7,"pgid":42} `, want: ref{PGID: 42, Start: 7}},
		{in: ``, err: "EOF"},
		{in: `garbage`, err: "invalid character"},
		{in: `{"pgid":42,"start":7} {}`, err: "data after"},
		{in: `{"pgid":42,"start":7,"pid":3}`, err: `unknown field "pid"`},
		{in: `{"pgid":"42","start":7}`, err: "cannot unmarshal string"},
		{in: `{"pgid":0,"start":7}`, err: "pgid 0 out of range"},
		{in: `{"pgid":1,"start":7}`, err: "pgid 1 out of range"},
		{in: `{"pgid":-5,"start":7}`, err: "pgid -5 out of range"},
		{in: `{"pgid":4194305,"start":7}`, err: "out of range"},
		{in: `{"pgid":42}`, err: "no start time"},
		{in: `{"pgid":42,"start":-1}`, err: "cannot unmarshal number -1"},
	} {
		got, err := parseRef(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseRef(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseRef(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if back, err := parseRef(got.String()); err != nil || back != got {
			t.Errorf("round trip of %+v: %+v, %v", got, back, err)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	f.Add(`{"pgid":42,"start":7,"boot":"b","pipe":9}`)
	f.Add(`{"pgid":1,"start":7}`)
	f.Add(`{"pgid":42,"start":7} x`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRef(s)
		if err != nil {
			return
		}
		if r.PGID < 2 || r.PGID > maxPID || r.Start == 0 {
			t.Fatalf("parseRef(%q) accepted %+v", s, r)
		}
		if back, err := parseRef(r.String()); err != nil || back != r {
			t.Fatalf("round trip of %+v: %+v, %v", r, back, err)
		}
	})
}

func TestParseStat(t *testing.T) {
	// tty_nr ... itrealvalue (fields 7-21), starttime (22), vsize, rss
	tail := " 0 -1 4194304 100 0 0 0 1 2 0 0 20 0 1 0 %s 1000 100"
	for _, tc := range []struct {
		in   string
		want procStat
		err  string
	}{
		{in: "42 (sh) S 1 42 40" + strings.Replace(tail, "%s", "12345", 1), want: procStat{pgid: 42, sid: 40, start: 12345}},
		{in: "42 (a) b) (c) R 1 7 8" + strings.Replace(tail, "%s", "9", 1), want: procStat{pgid: 7, sid: 8, start: 9}},
		{in: "42 sh S 1 42 40", err: "no command name"},
		{in: "42 (sh) S 1 42 40 0", err: "fields after"},
		{in: "42 (sh) S 1 x 40" + strings.Replace(tail, "%s", "1", 1), err: "invalid syntax"},
		{in: "42 (sh) S 1 42 40" + strings.Replace(tail, "%s", "-1", 1), err: "invalid syntax"},
	} {
		got, err := parseStat([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseStat(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	// And the real thing: this process leads no group, but has a start.
	st, err := readStat(os.Getpid())
	if err != nil || st.start == 0 || st.pgid != syscall.Getpgrp() {
		t.Errorf("readStat(self) = %+v, %v", st, err)
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (sh) S 1 42 40 0 -1 4194304 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 100"))
	f.Add([]byte("1 ()) R"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseStat(b) // must not panic
	})
}

// orphanedJob simulates a job whose main process exited while slipway
// was down: its background child remains in the group, holding the
// output pipe. It returns the job's ref, the child's pid and the pipe.
func orphanedJob(t *testing.T) (ref, int, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	var st syscall.Stat_t
	if err := syscall.Fstat(int(w.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", "sleep 1000 & echo $!")
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	leader, err := readStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 32)
	n, err := r.Read(line)
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(line[:n])))
	if err != nil {
		t.Fatalf("child pid %q: %v", line[:n], err)
	}
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
	cmd.Wait() // the leader is gone for good
	return ref{PGID: cmd.Process.Pid, Start: leader.start, Boot: bootID(), Pipe: st.Ino}, child, r
}

func TestReapOrphans(t *testing.T) {
	job, child, pipe := orphanedJob(t)
	if _, err := os.Stat("/proc/" + strconv.Itoa(job.PGID)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leader still in /proc: %v", err)
	}
	childStat, err := readStat(child)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		modify func(*ref)
		found  bool
	}{
		{"the job's child", func(*ref) {}, true},
		{"another pipe", func(r *ref) { r.Pipe++ }, false},
		{"no pipe recorded", func(r *ref) { r.Pipe = 0 }, false},
		{"started before the job", func(r *ref) { r.Start = childStat.start + 1 }, false},
		{"another group", func(r *ref) { r.PGID = child }, false},
	} {
		r := job
		tc.modify(&r)
		got, err := findOrphans(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if found := slices.Contains(got, orphan{child, childStat.start}); found != tc.found || len(got) > 1 {
			t.Errorf("%s: findOrphans = %v, want child %d found: %v", tc.name, got, child, tc.found)
		}
	}

	if err := New(Options{}).Reap(ctx, job.String()); err != nil {
		t.Fatalf("Reap: %v", err)
	}
	// The child was the pipe's last writer: EOF means it is dead.
	pipe.SetReadDeadline(time.Now().Add(testLimit))
	if _, err := io.Copy(io.Discard, pipe); err != nil {
		t.Errorf("orphan still alive after Reap: %v", err)
	}
}

// TestReapSpares: refs from another boot or naming slipway's own group
// never kill anything.
func TestReapSpares(t *testing.T) {
	job, _ := testJob(t, `trap 'echo alive; exit 0' TERM
echo ready
sleep 1000 & wait`)
	out := newLockedBuffer()
	job.Output = out
	e := New(Options{})
	p, err := e.Start(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseRef(p.Ref())
	if err != nil {
		t.Fatal(err)
	}
	out.await(t, "ready\n")
	other := r
	other.Boot = "another-boot"
	if err := e.Reap(context.Background(), other.String()); err != nil {
		t.Errorf("Reap from another boot: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	exit, err := p.Wait(ctx)
	if err != nil || exit.Code != 0 || !strings.Contains(out.String(), "alive") {
		t.Errorf("after Reap of another boot's ref: exit %+v, err %v, output %q (want the TERM trap to run)", exit, err, out.String())
	}

	self, err := readStat(syscall.Getpgrp())
	if err == nil {
		own := ref{PGID: syscall.Getpgrp(), Start: self.start, Boot: bootID()}
		if err := e.Reap(context.Background(), own.String()); err == nil {
			t.Error("Reap of slipway's own group succeeded")
		}
	}
}
