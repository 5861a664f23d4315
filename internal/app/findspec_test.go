package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindSpec(t *testing.T) {
	// root/                 checkout
	//   .slipway.yaml
	//   a/.slipway.yaml
	//   a/b/c/              no spec
	//   d/                  no spec
	// outer/.slipway.yaml   above the checkout: never used
	base := t.TempDir()
	root := filepath.Join(base, "outer", "root")
	spec := func(dir string) string { return filepath.Join(dir, ".slipway.yaml") }
	writeFile(t, spec(filepath.Join(base, "outer")), "steps: {}\n", 0o644)
	writeFile(t, spec(root), "steps: {}\n", 0o644)
	writeFile(t, spec(filepath.Join(root, "a")), "steps: {}\n", 0o644)
	for _, d := range []string{"a/b/c", "d"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bare := filepath.Join(base, "outer", "bare") // a checkout without any spec, below outer's
	if err := os.MkdirAll(filepath.Join(bare, "x", "y"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(root, "a", "b"))

	for _, tc := range []struct {
		name, dir, file, checkout string
		want                      string // "" = not found
	}{
		{"in dir", root, "", root, spec(root)},
		{"nearest above", filepath.Join(root, "a", "b", "c"), "", root, spec(filepath.Join(root, "a"))},
		{"up to the root", filepath.Join(root, "d"), "", root, spec(root)},
		{"unclean dir", root + "/d/../a/b/", "", root, spec(filepath.Join(root, "a"))},
		{"current directory", "", "", root, spec(filepath.Join(root, "a"))},
		{"relative dir", "c", "", root, spec(filepath.Join(root, "a"))},
		{"file wins", root, filepath.Join(base, "custom.yaml"), root, filepath.Join(base, "custom.yaml")},
		{"relative file is from the current directory", filepath.Join(root, "d"), "ci/p.yaml", root,
			filepath.Join(root, "a", "b", "ci", "p.yaml")},
		{"not above the checkout", filepath.Join(bare, "x", "y"), "", bare, ""},
		{"checkout is the dir", bare, "", bare, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FindSpec(tc.dir, tc.file, tc.checkout)
			if tc.want == "" {
				if !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("FindSpec = %q, %v; want an error wrapping os.ErrNotExist", got, err)
				}
				if !strings.Contains(err.Error(), ".slipway.yaml") || !strings.Contains(err.Error(), tc.checkout) {
					t.Errorf("error %q names neither the file nor the checkout", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindSpec: %v", err)
			}
			if got != tc.want {
				t.Errorf("FindSpec(%q, %q, %q) = %q, want %q", tc.dir, tc.file, tc.checkout, got, tc.want)
			}
		})
	}
}

// TestFindSpecThroughSymlink: git reports the checkout root with symlinks
// resolved, while dir keeps the path the user took (os.Getwd follows $PWD).
// In a subdirectory of a checkout reached through a symlink, the walk
// stops at once because dir is not textually under the checkout:
//
//	cd /tmp/link/sub && slipway run
//	slipway: no .slipway.yaml in . or above it up to /tmp/real: file does not exist
func TestFindSpecThroughSymlink(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	writeFile(t, filepath.Join(real, ".slipway.yaml"), "steps: {}\n", 0o644)
	if err := os.Mkdir(filepath.Join(real, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	got, err := FindSpec(filepath.Join(base, "link", "sub"), "", real)
	if err != nil {
		t.Fatalf("FindSpec through a symlink: %v", err)
	}
	if r, _ := filepath.EvalSymlinks(got); r != filepath.Join(real, ".slipway.yaml") {
		t.Errorf("FindSpec = %q, want the checkout's .slipway.yaml", got)
	}
}
