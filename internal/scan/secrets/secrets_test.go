package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/scan"
)

func locs(rep *scan.Report) []loc {
	var out []loc
	for _, f := range rep.Findings {
		out = append(out, loc{f.Path, f.Rule, f.Line})
	}
	return out
}

func TestScanTree(t *testing.T) {
	aws, pat := fakeAWSKey("tree"), fakeGitHubPAT("tree")
	tests := []struct {
		name  string
		files map[string]string
		want  []loc
	}{
		{
			name:  "aws key in env file",
			files: map[string]string{"deploy/prod.env": "REGION=eu-west-1\nAWS_ACCESS_KEY_ID=" + aws + "\n"},
			want:  []loc{{"deploy/prod.env", "aws-access-token", 2}},
		},
		{
			name:  "github token in go source",
			files: map[string]string{"cmd/main.go": "package main\n\nfunc main() {\n\tclient := \"" + pat + "\"\n\t_ = client\n}\n"},
			want:  []loc{{"cmd/main.go", "github-pat", 4}},
		},
		{
			name:  "gitleaks:allow on the line",
			files: map[string]string{"a.txt": "key = " + aws + " # gitleaks:allow\n"},
		},
		{
			name:  "global path allowlist skips node_modules",
			files: map[string]string{"node_modules/x/index.js": "const k = '" + pat + "'\n"},
		},
		{
			name:  "binary file is skipped as gitleaks does",
			files: map[string]string{"bin/tool": "\x7fELF\x02\x01\x01\x00" + strings.Repeat("\x00", 64) + aws + "\n"},
		},
		{
			name:  ".gitleaksignore drops one finding by path:rule:line",
			files: map[string]string{"a.txt": aws + "\n" + pat + "\n", IgnoreFile: "# reviewed\na.txt:aws-access-token:1\n"},
			want:  []loc{{"a.txt", "github-pat", 2}},
		},
		{
			name:  "base64-encoded key is decoded",
			files: map[string]string{"blob.yaml": "data: " + b64("aws_access_key_id = "+aws) + "\n"},
			want:  []loc{{"blob.yaml", "aws-access-token", 1}},
		},
		{
			name:  "clean tree",
			files: map[string]string{"README.md": "# nothing to see\n", "empty": ""},
		},
		{
			name: "several files sorted by path then line",
			files: map[string]string{
				"z.txt":     pat + "\n",
				"a/b.txt":   "\n\n" + aws + "\n",
				"a/c.txt":   "x\n",
				".git/HEAD": aws + "\n", // never scanned
			},
			want: []loc{{"a/b.txt", "aws-access-token", 3}, {"z.txt", "github-pat", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, t.TempDir(), tt.files)
			rep, err := Scan(t.Context(), Options{Root: root})
			if err != nil {
				t.Fatal(err)
			}
			if got := locs(rep); !slices.Equal(got, tt.want) {
				t.Errorf("findings = %v, want %v", got, tt.want)
			}
			for _, f := range rep.Findings {
				if f.Scanner != scan.Secrets || f.Severity != scan.High || f.Title == "" || len(f.Fingerprint) != 32 || f.Column < 1 {
					t.Errorf("finding not filled in: %+v", f)
				}
			}
			if rep.Scanner != scan.Secrets || !strings.HasPrefix(rep.Tool, "gitleaks 8.") {
				t.Errorf("report header = %q %q", rep.Scanner, rep.Tool)
			}
		})
	}
}

func TestScanColumnAndSnippet(t *testing.T) {
	aws := fakeAWSKey("column")
	root := writeTree(t, t.TempDir(), map[string]string{"a.env": "first=1\nKEY=" + aws + "\n"})
	rep, err := Scan(t.Context(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 {
		t.Fatalf("findings = %v", locs(rep))
	}
	f := rep.Findings[0]
	if f.Column != len("KEY=")+1 {
		t.Errorf("column = %d, want %d", f.Column, len("KEY=")+1)
	}
	if want := "KEY=" + scan.RedactValue(aws); f.Snippet != want {
		t.Errorf("snippet = %q, want %q", f.Snippet, want)
	}
}

// TestRedaction puts secrets in every shape the scanner handles and checks
// that neither the report's JSON nor the cache holds any of them.
func TestRedaction(t *testing.T) {
	aws, pat := fakeAWSKey("redact"), fakeGitHubPAT("redact")
	encoded := b64("aws_access_key_id = " + aws)
	long := strings.Repeat("x", 5000) + " token=" + pat + " " + strings.Repeat("y", 5000)
	root := writeTree(t, t.TempDir(), map[string]string{
		"a.env":     "AWS_ACCESS_KEY_ID=" + aws + "\n",
		"b.go":      "var t = \"" + pat + "\"\n",
		"c.yaml":    "data: " + encoded + "\n",
		"min.js":    long + "\n",
		"dup/a.env": "AWS_ACCESS_KEY_ID=" + aws + "\n",
	})
	cacheDir := filepath.Join(t.TempDir(), "cache")
	cache, err := NewFileCache(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Scan(t.Context(), Options{Root: root, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) < 5 {
		t.Fatalf("want a finding per file, got %v", locs(rep))
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{aws, pat, encoded, aws[4:], pat[4:]}
	for _, s := range secrets {
		if strings.Contains(string(js), s) {
			t.Errorf("report JSON holds a secret (%d chars)", len(s))
		}
	}
	for _, f := range rep.Findings {
		if len(f.Snippet) > maxSnippet+8 {
			t.Errorf("%s: snippet of %d bytes not clipped", f.Location(), len(f.Snippet))
		}
	}
	if rep.Findings[0].Fingerprint == rep.Findings[1].Fingerprint {
		t.Error("same secret in two files must have two fingerprints")
	}
	err = filepath.WalkDir(cacheDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() && info.Mode().Perm() != 0o700 || !d.IsDir() && info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", p, info.Mode().Perm())
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("cache file %s holds a secret", filepath.Base(p))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestIncremental(t *testing.T) {
	files := map[string]string{"leak.env": "AWS_ACCESS_KEY_ID=" + fakeAWSKey("inc") + "\n"}
	for i := range 20 {
		files[filepath.ToSlash(filepath.Join("pkg", string(rune('a'+i))+".go"))] = "package pkg\n\n// file " + string(rune('a'+i)) + "\n"
	}
	root := writeTree(t, t.TempDir(), files)
	cache, err := NewFileCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	scanOnce := func(opts Options) *scan.Report {
		t.Helper()
		opts.Root, opts.Cache = root, cache
		rep, err := Scan(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	check := func(step string, rep *scan.Report, scanned, cached, findings int) {
		t.Helper()
		if rep.Scanned != scanned || rep.Cached != cached || len(rep.Findings) != findings {
			t.Errorf("%s: scanned %d cached %d findings %d, want %d %d %d",
				step, rep.Scanned, rep.Cached, len(rep.Findings), scanned, cached, findings)
		}
	}
	first := scanOnce(Options{})
	check("cold", first, 21, 0, 1)
	again := scanOnce(Options{})
	check("warm", again, 0, 21, 1)
	if !slices.Equal(first.Findings, again.Findings) {
		t.Errorf("cached findings differ:\n%+v\n%+v", first.Findings, again.Findings)
	}
	writeTree(t, root, map[string]string{"pkg/c.go": "package pkg\n\nvar tok = \"" + fakeGitHubPAT("inc") + "\"\n"})
	check("one file changed", scanOnce(Options{}), 1, 20, 2)
	os.Remove(filepath.Join(root, "leak.env"))
	check("one file removed", scanOnce(Options{}), 0, 20, 1)

	// Other rules, other cache keys: nothing is answered from the cache.
	cfg := filepath.Join(t.TempDir(), "gitleaks.toml")
	writeTree(t, filepath.Dir(cfg), map[string]string{"gitleaks.toml": "[[rules]]\nid = \"gh\"\nregex = '''ghp_[0-9a-zA-Z]{36}'''\nkeywords = [\"ghp_\"]\n"})
	rep := scanOnce(Options{ConfigFile: cfg})
	check("rules changed", rep, 20, 0, 1)
	if rep.Findings[0].Rule != "gh" {
		t.Errorf("rule = %q, want gh", rep.Findings[0].Rule)
	}
}

func TestScanCorruptCacheEntryIsAMiss(t *testing.T) {
	root := writeTree(t, t.TempDir(), map[string]string{"a.env": "K=" + fakeAWSKey("corrupt") + "\n"})
	dir := t.TempDir()
	cache, err := NewFileCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Scan(t.Context(), Options{Root: root, Cache: cache}); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if len(matches) != 1 {
		t.Fatalf("cache files = %v", matches)
	}
	if err := os.WriteFile(matches[0], []byte(`{"hits":[{"rule":""}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Scan(t.Context(), Options{Root: root, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != 1 || len(rep.Findings) != 1 || len(rep.Warnings) != 1 {
		t.Errorf("scanned %d findings %d warnings %q", rep.Scanned, len(rep.Findings), rep.Warnings)
	}
	if rep, err = Scan(t.Context(), Options{Root: root, Cache: cache}); err != nil || rep.Cached != 1 {
		t.Errorf("entry not rewritten: cached %d, err %v", rep.Cached, err)
	}
}

func TestScanErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	writeTree(t, filepath.Dir(file), map[string]string{"f": "x"})
	badCfg := filepath.Join(t.TempDir(), "bad.toml")
	writeTree(t, filepath.Dir(badCfg), map[string]string{"bad.toml": "[[rules]\n"})
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"no root", Options{}, ErrUsage},
		{"root is a file", Options{Root: file}, ErrUsage},
		{"missing root", Options{Root: filepath.Join(t.TempDir(), "nope")}, fs.ErrNotExist},
		{"missing config", Options{Root: t.TempDir(), ConfigFile: badCfg + ".none"}, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Scan(t.Context(), tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Scan(t.Context(), Options{Root: t.TempDir(), ConfigFile: badCfg}); err == nil {
		t.Error("malformed config accepted")
	}
}

func TestScanCancelled(t *testing.T) {
	root := writeTree(t, t.TempDir(), map[string]string{"a.txt": strings.Repeat("password = hunter2\n", 10000)})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cache, _ := NewFileCache(t.TempDir())
	if _, err := Scan(ctx, Options{Root: root, Cache: cache}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	rep, err := Scan(t.Context(), Options{Root: root, Cache: cache})
	if err != nil || rep.Cached != 0 {
		t.Errorf("a cancelled scan left cache entries: cached %d, err %v", rep.Cached, err)
	}
}
