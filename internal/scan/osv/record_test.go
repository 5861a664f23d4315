package osv

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseRecord(f *testing.F) {
	files, _ := filepath.Glob("testdata/records/*/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"X","modified":"2025-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"1!2.0rc1.post3.dev4+x"}]}],"versions":["1"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecord(data)
		if err != nil {
			return
		}
		if !idRe.MatchString(r.ID) || filepath.Base(r.ID+".json") != r.ID+".json" {
			t.Fatalf("unsafe id %q accepted", r.ID)
		}
		// Matching any record must not panic.
		for _, a := range r.Affected {
			for _, v := range []string{"0", "1.0.0", "2.0rc1", "v1.2.3-pre"} {
				a.affects(v)
			}
			severity(r, &a)
		}
	})
}
