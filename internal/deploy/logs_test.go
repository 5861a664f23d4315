package deploy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/target"
)

func TestTailer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r1.log")
	tl := &tailer{ReplicaLog: target.ReplicaLog{Path: path}}
	step := func(name string, got []string, err error, want ...string) {
		t.Helper()
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	got, err := tl.tail(10)
	step("no file yet", got, err)
	write := func(s string, flag int) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	write("one\ntwo\nthr", os.O_APPEND)
	got, err = tl.tail(1)
	step("tail 1 of two complete lines", got, err, "two")
	got, err = tl.more()
	step("nothing new", got, err)
	write("ee\nfour\n", os.O_APPEND)
	got, err = tl.more()
	step("the partial line completed", got, err, "three", "four")
	write("new\n", os.O_TRUNC)
	got, err = tl.more()
	step("a replaced file is read from its start", got, err, "new")
}

// A long log's tail starts at a line boundary, not inside the line the
// last chunk cut.
func TestTailerLongFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r1.log")
	line := strings.Repeat("x", 999) + "\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(line, tailChunk/len(line)+10)+"last\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tl := &tailer{ReplicaLog: target.ReplicaLog{Path: path}}
	got, err := tl.tail(1 << 20)
	if err != nil || got[len(got)-1] != "last" || len(got[0]) != 999 || len(got) > tailChunk/len(line)+1 {
		t.Fatalf("tail of a long file: %d lines, first %d bytes, last %q, %v", len(got), len(got[0]), got[len(got)-1], err)
	}
}

// The real local target's replicas write to files; OpenLogs reads them
// per replica with the environment's secret values masked.
func TestReplicaLogsMasked(t *testing.T) {
	const secret = "tok-3f9c1d27a8e4"
	r := newRealRig(t, `environments:
  logs:
    target: local
    replicas: 2
    secrets: [API_TOKEN]
    stop-grace: 2s
    probes: {readiness: {path: /healthz, interval: 100ms}}
`, func(o *Options) {
		o.Secret = func(name string) (string, bool) { return secret, name == "API_TOKEN" }
	})
	v1 := r.images.Push(t, "v1", "-version", "v1", "-echo", "API_TOKEN")
	r.deploy("logs", v1)
	ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
	defer cancel()
	var got []string
	for len(got) < 6 && ctx.Err() == nil { // each replica: the supervisor's line and two of its own
		l, err := r.c.OpenLogs(ctx, LogsRequest{Env: "logs", Tail: 10})
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		if err := l.Send(ctx, func(ll LogLine) error {
			got = append(got, ll.Version+" "+ll.Line)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	count := func(prefix string) (n int) {
		for _, line := range got {
			if strings.HasPrefix(line, prefix) {
				n++
			}
		}
		return n
	}
	if len(got) != 6 || count("v1 --- slipway: starting replica hello.logs.v1.") != 2 ||
		count("v1 hello v1 listening on 127.0.0.1:") != 2 || count("v1 API_TOKEN=***") != 2 {
		t.Fatalf("replica logs = %q, want each replica's start lines, the secret masked", got)
	}
	for _, line := range got {
		if strings.Contains(line, secret) {
			t.Errorf("a secret value reached the logs: %q", line)
		}
	}
	if _, err := r.c.OpenLogs(ctx, LogsRequest{Env: "logs", Version: "v9"}); err == nil {
		t.Error("logs of a version the environment does not run: no error")
	}
}
