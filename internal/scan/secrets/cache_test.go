package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	c, err := NewFileCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.Repeat("ab", 32)
	if _, ok, err := c.Get(key); ok || err != nil {
		t.Fatalf("empty cache: ok %v err %v", ok, err)
	}
	want := Entry{Hits: []Hit{{Rule: "r", Line: 3, Column: 1, Snippet: "x=ab*****", SecretSHA256: strings.Repeat("0f", 32)}}}
	if err := c.Put(key, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(key)
	if err != nil || !ok || len(got.Hits) != 1 || got.Hits[0] != want.Hits[0] {
		t.Fatalf("get = %+v %v %v", got, ok, err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "ab"), filepath.Join(dir, "ab", key+".json")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]os.FileMode{true: 0o700, false: 0o600}[fi.IsDir()]; fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("g", 64), key[:63], key + "0"} {
		if err := c.Put(bad, want); !errors.Is(err, ErrBadKey) {
			t.Errorf("Put(%q) err = %v, want ErrBadKey", bad, err)
		}
		if _, _, err := c.Get(bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("Get(%q) err = %v, want ErrBadKey", bad, err)
		}
	}
}

func TestDecodeEntry(t *testing.T) {
	sha := strings.Repeat("0f", 32)
	tests := []struct {
		in string
		ok bool
	}{
		{`{"hits":[]}`, true},
		{`{"hits":[{"rule":"r","secret_sha256":"` + sha + `"}]}`, true},
		{`{"hits":[{"rule":"","secret_sha256":"` + sha + `"}]}`, false},
		{`{"hits":[{"rule":"r","secret_sha256":"plain-secret"}]}`, false},
		{`{"hits":[{"rule":"r","secret":"x","secret_sha256":"` + sha + `"}]}`, false},
		{`{"hits":[{"rule":"r","line":-2,"secret_sha256":"` + sha + `"}]}`, false},
		{`{"hits":[]} trailing`, false},
		{`not json`, false},
	}
	for _, tt := range tests {
		_, err := DecodeEntry([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("DecodeEntry(%s) err = %v, want ok %v", tt.in, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadEntry) {
			t.Errorf("DecodeEntry(%s) err = %v, not ErrBadEntry", tt.in, err)
		}
	}
}

func TestParseIgnore(t *testing.T) {
	set, warn := parseIgnore([]byte("# c\n\n dir\\a.txt:r:1 \nabc123:dir\\b.go:r:7\nnonsense\n"))
	if len(warn) != 1 || !strings.Contains(warn[0], ":5:") {
		t.Errorf("warnings = %q", warn)
	}
	h := Hit{Rule: "r", Line: 1}
	h7 := Hit{Rule: "r", Line: 7}
	tests := []struct {
		path, commit string
		hit          Hit
		want         bool
	}{
		{"dir/a.txt", "", h, true},
		{"dir/a.txt", "anycommit", h, true},
		{"dir/a.txt", "", Hit{Rule: "r", Line: 2}, false},
		{"dir/b.go", "abc123", h7, true},
		{"dir/b.go", "", h7, false},
		{"dir/b.go", "def456", h7, false},
	}
	for _, tt := range tests {
		if got := set.ignored(tt.path, tt.commit, tt.hit); got != tt.want {
			t.Errorf("ignored(%s, %s, %d) = %v, want %v", tt.path, tt.commit, tt.hit.Line, got, tt.want)
		}
	}
}
