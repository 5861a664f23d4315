package secrets

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestParseFileGolden parses each testdata/parse/*.yaml and compares the
// secrets it yields, or its errors, with the .golden file beside it.
func TestParseFileGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			values, err := ParseFile(path, data)
			got := describeParse(values, err)
			if strings.HasPrefix(filepath.Base(path), "bad_") != (err != nil) {
				t.Errorf("bad_ files must fail and others parse; got:\n%s", got)
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func describeParse(values map[string]string, err error) string {
	if err != nil {
		return "error:\n" + err.Error() + "\n"
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(values)) {
		fmt.Fprintf(&b, "%s=%q\n", k, values[k])
	}
	return b.String()
}

// TestParseFileHidesValues checks that no error quotes a value, since errors
// end up in logs.
func TestParseFileHidesValues(t *testing.T) {
	for _, tt := range []struct{ name, data, value string }{
		{"scalar root", "ghp_pastedTokenValue123\n", "ghp_pastedTokenValue123"},
		{"quoted root", "\"ghp_pastedTokenValue123\"\n", "ghp_pastedTokenValue123"},
		{"value in a list", "A:\n  - ghp_pastedTokenValue123\n", "ghp_pastedTokenValue123"},
		{"binary", "A: !!binary Z2hwX3Bhc3RlZFRva2VuVmFsdWUxMjM=\n", "Z2hwX3Bhc3RlZFRva2VuVmFsdWUxMjM="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile("s.yaml", []byte(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), tt.value) {
				t.Errorf("error reveals the value: %v", err)
			}
		})
	}
}

func TestLoadFileProviderMode(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		mode fs.FileMode
		ok   bool
	}{
		{0o600, true}, {0o400, true}, {0o700, true},
		{0o644, false}, {0o640, false}, {0o604, false}, {0o620, false}, {0o602, false}, {0o610, false}, {0o601, false}, {0o666, false},
	} {
		t.Run(fmt.Sprintf("%04o", tt.mode), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("secrets %04o.yaml", tt.mode))
			if err := os.WriteFile(path, []byte("A: value-a\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			p, err := LoadFileProvider(path)
			if tt.ok {
				if err != nil {
					t.Fatalf("LoadFileProvider: %v", err)
				}
				if v, ok, _ := p.Lookup(t.Context(), "A"); !ok || v != "value-a" {
					t.Errorf("Lookup(A) = %q, %v", v, ok)
				}
				return
			}
			var me *ModeError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want *ModeError", err)
			}
			msg := err.Error()
			for _, want := range []string{path, fmt.Sprintf("%04o", tt.mode), "chmod 600 '" + path + "'"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
		})
	}
}

func TestLoadFileProviderErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadFileProvider(filepath.Join(dir, "absent.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := LoadFileProvider(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: err = %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("ok: fine-value\nbad-name: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFileProvider(bad); err == nil || !strings.Contains(err.Error(), bad+":2:1:") {
		t.Errorf("bad content: err = %v, want it positioned at %s:2:1", err, bad)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFileProvider(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: err = %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/slipway/secrets.yaml": "/etc/slipway/secrets.yaml",
		"/tmp/my secrets.yaml":      "'/tmp/my secrets.yaml'",
		"/tmp/it's.yaml":            `'/tmp/it'\''s.yaml'`,
		"":                          "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
