package supervisor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRotateLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.log")
	read := func(p string) string {
		b, _ := os.ReadFile(p)
		return string(b)
	}
	tests := []struct {
		name         string
		content      string
		max          int64
		keep, rolled string // path's and path.1's content after
	}{
		{"under the limit", "abc\n", 10, "abc\n", ""},
		{"over it", strings.Repeat("x", 11), 10, "", strings.Repeat("x", 11)},
		{"again: the older one is replaced", "second run\n", 5, "", "second run\n"},
		{"negative: never", strings.Repeat("y", 100), -1, strings.Repeat("y", 100), "second run\n"},
	}
	for _, tc := range tests {
		if err := os.WriteFile(path, []byte(tc.content), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := rotateLog(path, tc.max); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got, got1 := read(path), read(path+".1"); got != tc.keep || got1 != tc.rolled {
			t.Errorf("%s: log %q and .1 %q, want %q and %q", tc.name, got, got1, tc.keep, tc.rolled)
		}
	}
	if err := rotateLog(filepath.Join(dir, "none.log"), 1); err != nil {
		t.Errorf("a replica that wrote nothing: %v", err)
	}
	if _, err := os.Stat(path + ".1.tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary copy is left: %v", err)
	}
}

// A running replica's log is rotated above LogMaxBytes, and the replica
// goes on writing at the start of the emptied file (O_APPEND: no hole).
func TestRunningReplicaLogRotates(t *testing.T) {
	s, _ := newTestSupervisor(t, Config{LogMaxBytes: 2048})
	spec := testSpec(t, "v1.0.0", 1, "TS_TICK=5ms")
	mustStart(t, s, spec)
	waitReady(t, s, "v1.0.0", 1)
	path := s.Replicas("v1.0.0")[0].LogPath
	lastTick := func(text string) int {
		n := 0
		for _, line := range strings.Split(text, "\n") {
			fmt.Sscanf(line, "tick %d", &n)
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rolled, _ := os.ReadFile(path + ".1")
		cur, _ := os.ReadFile(path)
		if len(rolled) > 2048 && lastTick(string(cur)) > lastTick(string(rolled)) {
			if bytes.IndexByte(cur, 0) >= 0 {
				t.Fatalf("the log has a hole of NUL bytes after the truncation: %q", cur[:min(len(cur), 64)])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rotation: %s.1 has %d bytes, the log %d", path, len(rolled), len(cur))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
