package sbom

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/testtool"
)

// validatorDir is scripts/sbom-validate, relative to this package.
var validatorDir = filepath.Join("..", "..", "..", "scripts", "sbom-validate")

var installValidators = sync.OnceValues(func() (string, error) {
	start := time.Now()
	out, err := exec.Command("bash", filepath.Join(validatorDir, "install.sh")).CombinedOutput()
	if err != nil {
		return "", errors.New(err.Error() + ": " + string(out))
	}
	return time.Since(start).String(), nil
})

// validate runs validate.mjs once on all docs (schemas compile once per
// run) and returns its exit code and, per document, whether it was valid.
func validate(t testing.TB, node, kind string, docs [][]byte) (int, []bool, string) {
	t.Helper()
	took, err := installValidators()
	if err != nil {
		t.Fatalf("install validators: %v", err)
	}
	t.Logf("validators installed in %s", took)
	dir := t.TempDir()
	args := []string{filepath.Join(validatorDir, "validate.mjs"), kind}
	for i, doc := range docs {
		f := filepath.Join(dir, fmt.Sprintf("%d.json", i))
		if err := os.WriteFile(f, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	start := time.Now()
	cmd := exec.Command(node, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("validated %d %s documents in %s", len(docs), kind, time.Since(start))
	code := 0
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run validate.mjs: %v", err)
	}
	valid := make([]bool, len(docs))
	for i := range docs {
		valid[i] = strings.Contains(out.String(), fmt.Sprintf("%d.json: valid %s\n", i, kind))
	}
	return code, valid, out.String()
}

func TestValidateWithRealValidators(t *testing.T) {
	node := testtool.Find(t, "node", "")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	layer, err := FromLayer(bytes.NewReader(fixtureLayer(t)))
	if err != nil {
		t.Fatal(err)
	}
	inputs := []struct {
		name    string
		subject Subject
		pkgs    []Package
	}{
		{"fixtures", imageSubject, fixturePackages(t)},
		{"test-binary", appSubject, readBinary(t, exe)},
		{"layer", imageSubject, layer},
		{"empty", Subject{Name: "nothing"}, nil},
	}
	for _, r := range renderers {
		t.Run(r.name, func(t *testing.T) {
			var docs [][]byte
			for _, in := range inputs {
				doc, err := r.render(in.subject, in.pkgs, created)
				if err != nil {
					t.Fatalf("%s: %v", in.name, err)
				}
				docs = append(docs, doc)
			}
			code, valid, out := validate(t, node, r.name, docs)
			for i, ok := range valid {
				if !ok {
					t.Errorf("validator rejected our %s for %s", r.name, inputs[i].name)
				}
			}
			if code != 0 || t.Failed() {
				t.Fatalf("validate.mjs exit %d:\n%s", code, out)
			}
		})
	}
}

// TestValidatorsRejectBrokenSBOMs proves the validation above can fail.
func TestValidatorsRejectBrokenSBOMs(t *testing.T) {
	node := testtool.Find(t, "node", "")
	pkgs := fixturePackages(t)
	breakages := map[string][][2]string{ // kind -> (old, new) replacements, one per document
		"cyclonedx": {
			{`"type": "library"`, `"type": "no-such-type"`},
			{`"alg": "SHA-256"`, `"alg": "SHA-257"`},
			{`"specVersion": "1.6"`, `"specVersion": "1.5"`},
		},
		"spdx": {
			{`"downloadLocation": "NOASSERTION",`, ``},
			{`"referenceCategory": "PACKAGE-MANAGER"`, `"referenceCategory": "PACKAGE_MANAGER"`},
			{`"spdxVersion": "SPDX-2.3"`, `"spdxVersion": "SPDX-2.2"`},
		},
	}
	for _, r := range renderers {
		t.Run(r.name, func(t *testing.T) {
			doc, err := r.render(imageSubject, pkgs, created)
			if err != nil {
				t.Fatal(err)
			}
			var docs [][]byte
			for _, b := range breakages[r.name] {
				broken := bytes.Replace(doc, []byte(b[0]), []byte(b[1]), 1)
				if bytes.Equal(broken, doc) {
					t.Fatalf("%q not found in the %s output", b[0], r.name)
				}
				docs = append(docs, broken)
			}
			docs = append(docs, doc) // the intact one passes in the same run
			code, valid, out := validate(t, node, r.name, docs)
			for i, b := range breakages[r.name] {
				if valid[i] {
					t.Errorf("broken %s (%s -> %s) accepted", r.name, b[0], b[1])
				}
			}
			if !valid[len(docs)-1] {
				t.Errorf("intact %s rejected", r.name)
			}
			if code != 1 || t.Failed() {
				t.Fatalf("validate.mjs exit %d, want 1:\n%s", code, out)
			}
		})
	}
}
