package sarif

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read. Read must never panic, and what
// it accepts must survive Write and Read again with every finding's
// severity and fingerprint intact: that is what "new since base" relies on.
func FuzzRead(f *testing.F) {
	leaks, _ := gitleaksLog()
	for _, s := range []string{golangciLint, semgrep, eslint, gosecLog, leaks, "", "{}", "null", `{"version":"2.1.0","runs":null}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"R"}]}},"results":[{"ruleIndex":0,"message":{}}]}]}`} {
		f.Add([]byte(s))
	}
	if golden, err := os.ReadFile(filepath.Join("testdata", "write.sarif")); err == nil {
		f.Add(golden)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reps, err := Read(bytes.NewReader(data), "fuzz.sarif")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, reps...); err != nil {
			t.Fatalf("Write of what Read accepted: %v", err)
		}
		again, err := Read(&buf, "again.sarif")
		if err != nil {
			t.Fatalf("Read of what Write wrote: %v\n%s", err, buf.Bytes())
		}
		if len(again) != len(reps) {
			t.Fatalf("%d runs became %d", len(reps), len(again))
		}
		for i := range reps {
			if len(again[i].Findings) != len(reps[i].Findings) {
				t.Fatalf("run %d: %d findings became %d", i, len(reps[i].Findings), len(again[i].Findings))
			}
			for j, f := range reps[i].Findings {
				g := again[i].Findings[j]
				if g.Fingerprint != f.Fingerprint || g.Severity != f.Severity || g.Rule != f.Rule {
					t.Fatalf("run %d finding %d: %+v became %+v", i, j, f, g)
				}
			}
		}
	})
}
