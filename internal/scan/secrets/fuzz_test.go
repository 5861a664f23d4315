package secrets

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecodeEntry: a cache entry is read back from disk, where anything
// may have been written. It must decode or fail cleanly, and what decodes
// must survive a round trip.
func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte(`{"hits":[]}`))
	f.Add([]byte(`{"hits":[{"rule":"aws-access-token","title":"t","line":2,"column":5,"snippet":"KEY=AKIA*****","secret_sha256":"` + strings.Repeat("ab", 32) + `"}]}`))
	f.Add([]byte(`{"hits":[{"rule":"","secret_sha256":""}]}`))
	f.Add([]byte(`{"hits":[{"rule":"r","line":-1,"secret_sha256":"` + strings.Repeat("0", 64) + `"}]}`))
	f.Add([]byte(`{"hits":null} {}`))
	f.Add([]byte(`{"hits":[],"secret":"x"}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			return
		}
		for _, h := range e.Hits {
			if h.Rule == "" || h.Line < 0 || len(h.SecretSHA256) != 64 {
				t.Fatalf("invalid hit accepted: %+v", h)
			}
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEntry(out)
		if err != nil {
			t.Fatalf("re-encoded entry rejected: %v", err)
		}
		if len(e.Hits) != len(back.Hits) || len(e.Hits) > 0 && !reflect.DeepEqual(e.Hits, back.Hits) {
			t.Fatalf("round trip changed the entry: %+v -> %+v", e, back)
		}
	})
}

// FuzzParseIgnore: .gitleaksignore comes from the scanned repository.
func FuzzParseIgnore(f *testing.F) {
	f.Add([]byte("# comment\n\na.txt:aws-access-token:1\n"))
	f.Add([]byte("0123abc:dir\\b.go:github-pat:12\r\nbad line\n::\n"))
	f.Add([]byte(strings.Repeat("x", 70000) + "\n"))
	f.Add([]byte("a:b:c:d:e\n:::\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, warnings := parseIgnore(b)
		for k := range set {
			parts := strings.Split(k, ":")
			if len(parts) != 3 && len(parts) != 4 {
				t.Fatalf("entry %q has %d parts", k, len(parts))
			}
			path := parts[len(parts)-3]
			if strings.Contains(path, `\`) {
				t.Fatalf("path %q not normalised", path)
			}
		}
		if len(set) == 0 && len(warnings) == 0 && strings.Count(string(b), ":") >= 2 && !strings.Contains(string(b), "#") && len(b) < 60000 {
			// Something colon-separated was neither kept nor reported.
			for _, line := range strings.Split(string(b), "\n") {
				if n := strings.Count(strings.TrimSpace(line), ":"); n == 2 || n == 3 {
					t.Fatalf("line %q dropped silently", line)
				}
			}
		}
	})
}
