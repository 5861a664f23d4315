package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestE2EGatesExample is the gates issue's "done means": examples/gated
// runs the scanners and the gate; a change that adds a secret, a vulnerable
// dependency, a gosec finding or untested code fails the run with a clear
// report; a valid waiver lets it pass and an expired one does not.
func TestE2EGatesExample(t *testing.T) {
	e := newEnv(t)
	repo := example(t, "gated")
	e.setenv("SLIPWAY_VULNDB_SOURCE=" + filepath.Join(repo.Dir(), "osv"))
	if r := e.run(repo.Dir(), "run"); r.code != 0 {
		t.Fatalf("the example itself: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	base := repo.Rev("HEAD")

	const key = `package main

var awsKey = "AKIA` + `QYLPMN5HHHFPZAM2"
`
	const md5 = `package main

import "crypto/md5"

func digest(b []byte) [16]byte { return md5.Sum(b) }
`
	const untested = `package main

func shout(s string) string {
	out := ""
	for _, r := range s {
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		out += string(r)
	}
	return out
}
`
	waiver := func(expires string) string {
		entry := "  - rule: %s\n    path: key.go\n    owner: alice\n    reason: fake key in a test fixture\n    expires: " + expires + "\n"
		// gitleaks and gosec (G101) both see the key.
		return "waivers:\n" + fmt.Sprintf(entry, "aws-access-token") + fmt.Sprintf(entry, "G101")
	}
	future, past := time.Now().AddDate(0, 1, 0).Format("2006-01-02"), time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	tests := []struct {
		name  string
		files map[string]string
		code  int
		want  []string // in the gate step's log
	}{
		{"secret", map[string]string{"key.go": key}, 1, []string{"scan/secrets", "FAIL", "key.go:3", "aws-access-token"}},
		{"vulnerable dependency", map[string]string{"go.mod": strings.Replace(readExample(t, "gated", "go.mod"), "v1.1.0", "v1.0.0", 1)},
			1, []string{"scan/deps", "FAIL", "SYNTHETIC-GREET-0001", "go.mod"}},
		{"gosec finding", map[string]string{"digest.go": md5}, 1, []string{"scan/sast", "FAIL", "digest.go:3", "G501"}},
		{"untested code", map[string]string{"shout.go": untested}, 1, []string{"new_coverage >= 80", "FAIL", "shout.go"}},
		{"waived secret", map[string]string{"key.go": key, ".slipway/waivers.yaml": waiver(future)}, 0, []string{"GATE PASSED", "owner alice"}},
		{"expired waiver", map[string]string{"key.go": key, ".slipway/waivers.yaml": waiver(past)}, 1, []string{"Expired waivers", "scan/secrets"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo.Git("reset", "-q", "--hard", base)
			for name, content := range tt.files {
				repo.Write(name, content)
			}
			repo.Commit(tt.name)
			r := e.run(repo.Dir(), "run")
			logs := e.run(repo.Dir(), "logs", strconv.Itoa(i+2), "gate").stdout
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", r.code, tt.code, r.stdout, logs)
			}
			for _, w := range tt.want {
				if !strings.Contains(logs, w) {
					t.Errorf("the gate's report lacks %q:\n%s", w, logs)
				}
			}
			if strings.Contains(r.stdout+logs, "QYLPMN5HHHFPZAM2") {
				t.Error("the secret was printed whole")
			}
		})
	}
}

// The image scan reads the image the run published: a database that now
// knows a vulnerability of the Go standard library inside it fails the gate.
func TestE2EGatesVulnerableImage(t *testing.T) {
	e := newEnv(t)
	repo := example(t, "gated")
	src := t.TempDir()
	for name, body := range map[string]string{
		"SYNTHETIC-GREET-0001.json": readExample(t, "gated", "osv/SYNTHETIC-GREET-0001.json"),
		"SYNTHETIC-STDLIB-0001.json": `{"schema_version":"1.6.0","id":"SYNTHETIC-STDLIB-0001","modified":"2026-01-01T00:00:00Z",
"summary":"SYNTHETIC: every Go standard library before 99","database_specific":{"severity":"CRITICAL"},
"affected":[{"package":{"ecosystem":"Go","name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"99.0.0"}]}]}]}`,
	} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.setenv("SLIPWAY_VULNDB_SOURCE=" + filepath.Join(repo.Dir(), "osv"))
	if r := e.run(repo.Dir(), "run"); r.code != 0 {
		t.Fatalf("the example itself: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := e.run(repo.Dir(), "scan", "db", "update", "--source", src); r.code != 0 {
		t.Fatalf("scan db update: exit %d\n%s", r.code, r.stderr)
	}
	repo.Write("main.go", readExample(t, "gated", "main.go")+"\n// a change\n")
	repo.Commit("a change")
	r := e.run(repo.Dir(), "run")
	logs := e.run(repo.Dir(), "logs", "2", "gate").stdout
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, logs)
	}
	for _, w := range []string{"scan/image", "FAIL", "SYNTHETIC-STDLIB-0001", "critical"} {
		if !strings.Contains(logs, w) {
			t.Errorf("the gate's report lacks %q:\n%s", w, logs)
		}
	}
	// The same image through the CLI, by its tag in the artifact registry.
	r = e.run(repo.Dir(), "scan", "image", "gated:sha-"+repo.Rev("HEAD"))
	if r.code != 1 || !strings.Contains(r.stdout, "SYNTHETIC-STDLIB-0001") {
		t.Errorf("scan image: exit %d, want 1 with the finding\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func readExample(t testing.TB, name, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
