package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/change/changetest"
	"github.com/slipway-ci/slipway/internal/testtool"
)

// hostileScript tries every way a step could reach the provenance key: the
// path itself, unmounting what hides it, other processes' roots and working
// directories, the mount table, and a search of the whole file system. It
// prints LEAK when any read succeeds.
const hostileScript = `set +e
K="$STATE/keys/provenance.key"
cat "$K" && echo LEAK direct
cat "$STATE/keys/passphrase" && echo LEAK passphrase
ls -la "$STATE" "$STATE/keys"
umount "$STATE" && cat "$K" && echo LEAK umount
umount -l "$STATE" && cat "$K" && echo LEAK lazy umount
for p in /proc/[0-9]*; do
  cat "$p/root$K" 2>/dev/null && echo LEAK "$p/root"
  cat "$p/cwd/keys/provenance.key" 2>/dev/null && echo LEAK "$p/cwd"
  for f in "$p"/fd/*; do # regular files only: reading a pipe would block
    [ -f "$f" ] && head -c 64 "$f" 2>/dev/null | grep -q "ENCRYPTED" && echo LEAK "$f"
  done
done
grep -F "$STATE" /proc/self/mountinfo
timeout 60 find / -maxdepth 8 -name 'provenance.key' 2>/dev/null | sed 's/^/FOUND /'
echo hostile done
`

// TestE2EHostileStepCannotReadProvenanceKey: the provenance key signs what
// Slipway says about a build, so no sandboxed step may read it, even one
// that knows where it lies and tries to undo the sandbox.
func TestE2EHostileStepCannotReadProvenanceKey(t *testing.T) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		if testtool.Required("bwrap") {
			t.Fatal("bwrap is required (SLIPWAY_TEST_REQUIRE) but missing")
		}
		t.Skip("bwrap not installed: steps cannot be sandboxed here")
	}
	e := newEnv(t)
	e.setenv("SLIPWAY_SANDBOX=on")
	if r := e.run(e.state, "keys", "generate", "provenance"); r.code != 0 {
		t.Fatalf("keys generate: %d %s", r.code, r.stderr)
	}
	key, err := os.ReadFile(filepath.Join(e.state, "keys", "provenance.key"))
	if err != nil {
		t.Fatal(err)
	}
	pass, err := os.ReadFile(filepath.Join(e.state, "keys", "passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	// Another installation's state dir on the same machine is out of reach too.
	other := newEnv(t)
	if r := other.run(other.state, "keys", "generate", "provenance"); r.code != 0 {
		t.Fatalf("keys generate: %d %s", r.code, r.stderr)
	}
	repo := changetest.NewRepo(t)
	repo.Write(".slipway.yaml", "env:\n  STATE: "+e.state+"\nsteps:\n  hostile:\n    run: |\n"+indent(hostileScript, "      "))
	repo.Commit("hostile")
	if r := e.run(repo.Dir(), "run"); r.code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	logs := e.run(repo.Dir(), "logs", "1", "hostile")
	out := logs.stdout
	if !strings.Contains(out, "hostile done") {
		t.Fatalf("the hostile step did not finish:\n%s%s", out, logs.stderr)
	}
	for _, bad := range []string{"LEAK", "FOUND", "ENCRYPTED", firstLine(key, 2), strings.TrimSpace(string(pass))} {
		if strings.Contains(out, bad) {
			t.Errorf("the step saw %q:\n%s", bad, out)
		}
	}
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix) + "\n"
}

// firstLine returns line n (1-based) of a PEM file: base64 key material.
func firstLine(b []byte, n int) string {
	ls := strings.Split(string(b), "\n")
	if len(ls) < n {
		return string(b)
	}
	return ls[n-1]
}
