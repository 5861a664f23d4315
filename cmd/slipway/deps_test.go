package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps locks the binary's dependency graph: what must be in it (the
// pure-Go SQLite) and what must never creep in.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[f[0]] = true
		// One third-party package (github.com/digitorus/pkcs7, through
		// sigstore) imports "testing"; none of ours may.
		if strings.HasPrefix(f[0], "github.com/slipway-ci/") && slices.Contains(f[1:], "testing") {
			t.Errorf("%s imports testing", f[0])
		}
	}
	delete(deps, "testing")
	for _, want := range []string{"modernc.org/sqlite", "github.com/spf13/cobra", "github.com/google/cel-go/cel"} {
		if !deps[want] {
			t.Errorf("the binary no longer depends on %s", want)
		}
	}
	forbidden := map[string]string{
		"github.com/mattn/go-sqlite3":    "cgo SQLite: slipway must build without cgo",
		"net/http/pprof":                 "debug endpoints registered on the default mux",
		"github.com/stretchr/testify":    "test library in the binary",
		"github.com/google/go-cmp/cmp":   "test library in the binary",
		"internal/change/changetest":     "test helpers in the binary",
		"internal/store/storetest":       "test helpers in the binary",
		"internal/executor/executortest": "test helpers in the binary",
	}
	for p := range deps {
		for bad, why := range forbidden {
			if p == bad || strings.HasSuffix(p, "/"+bad) {
				t.Errorf("%s: %s", p, why)
			}
		}
	}
}
