package secrets

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/testtool"
)

const gitleaksCLIVersion = "v8.30.1"

// runGitleaks runs `gitleaks dir .` in dir, as a user would at the root of
// a checkout, and returns its findings and process state.
func runGitleaks(tb testing.TB, bin, dir string) ([]loc, *os.ProcessState) {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "gitleaks.json")
	cmd := exec.Command(bin, "dir", ".", "--no-banner", "--log-level", "error",
		"--exit-code", "0", "--report-format", "json", "--report-path", out)
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("gitleaks: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	var raw []struct {
		RuleID    string
		File      string
		StartLine int
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		tb.Fatalf("gitleaks report: %v", err)
	}
	got := make([]loc, 0, len(raw))
	for _, f := range raw {
		got = append(got, loc{filepath.ToSlash(f.File), f.RuleID, f.StartLine})
	}
	slices.SortFunc(got, func(a, b loc) int { return strings.Compare(a.String(), b.String()) })
	return got, cmd.ProcessState
}

func sortedLocs(ls []loc) []loc {
	ls = slices.Clone(ls)
	slices.SortFunc(ls, func(a, b loc) int { return strings.Compare(a.String(), b.String()) })
	return ls
}

// gitleaksTestdata is gitleaks' own testdata: real-world secret shapes,
// archives, .gitleaksignore files in sub-trees.
func gitleaksTestdata(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", gitleaksModule).Output()
	dir := filepath.Join(strings.TrimSpace(string(out)), "testdata")
	if err != nil || strings.TrimSpace(string(out)) == "" {
		tb.Skipf("gitleaks module source not found: %v", err)
	}
	return dir
}

// TestSameFindingsAsGitleaksCLI compares findings (path, rule, line) with
// the gitleaks CLI of the same version on the same trees.
func TestSameFindingsAsGitleaksCLI(t *testing.T) {
	bin := testtool.Find(t, "gitleaks", gitleaksCLIVersion)
	aws, pat := fakeAWSKey("cli"), fakeGitHubPAT("cli")
	synthetic := writeTree(t, t.TempDir(), map[string]string{
		"a.env":              "AWS_ACCESS_KEY_ID=" + aws + "\n",
		"b/c.go":             "package c\n\nconst tok = \"" + pat + "\"\n",
		"allowed.txt":        aws + " // gitleaks:allow\n",
		"node_modules/x":     pat + "\n",
		"blob.yaml":          "data: " + b64("aws_access_key_id = "+aws) + "\n",
		"ignored.txt":        pat + "\n",
		IgnoreFile:           "ignored.txt:github-pat:1\n",
		"big.txt":            strings.Repeat("lorem ipsum dolor\n\n", 20000) + "password = \"" + fakeChars("pw", alnum, 20) + "\"\n",
		"bin/elf":            "\x7fELF\x02\x01\x01\x00" + strings.Repeat("\x00", 64) + aws,
		"generic.py":         "api_key = \"" + fakeChars("generic", alnum, 32) + "\"\n",
		"private.pem":        "-----BEGIN RSA PRIVATE KEY-----\n" + fakeChars("pem", alnum, 64) + "\n" + fakeChars("pem2", alnum, 64) + "\n-----END RSA PRIVATE KEY-----\n",
		"go.sum":             "x v1 h1:" + aws + "\n",
		"vendor/modules.txt": "# " + pat + "\n",
	})
	for name, dir := range map[string]string{"synthetic": synthetic, "gitleaks-testdata": gitleaksTestdata(t)} {
		t.Run(name, func(t *testing.T) {
			want, _ := runGitleaks(t, bin, dir)
			rep, err := Scan(t.Context(), Options{Root: dir})
			if err != nil {
				t.Fatal(err)
			}
			got := sortedLocs(locs(rep))
			if !slices.Equal(got, want) {
				t.Errorf("slipway %d findings, gitleaks %d\nslipway:  %v\ngitleaks: %v", len(got), len(want), got, want)
			}
			if len(want) == 0 {
				t.Error("gitleaks found nothing: the comparison proves nothing")
			}
		})
	}
}
