package sast

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// matcher holds the Exclude patterns.
type matcher []string

func newMatcher(patterns []string) (matcher, error) {
	m := make(matcher, 0, len(patterns))
	for _, p := range patterns {
		p = strings.Trim(path.Clean(filepath.ToSlash(p)), "/")
		if !doublestar.ValidatePattern(p) {
			return nil, fmt.Errorf("sast: exclude pattern %q is not a valid glob", p)
		}
		m = append(m, p)
	}
	return m, nil
}

// excludes reports whether rel, or a directory above it, matches.
func (m matcher) excludes(rel string) bool {
	for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		for _, pat := range m {
			if ok, _ := doublestar.Match(pat, p); ok {
				return true
			}
		}
	}
	return false
}

// packageDirs lists the directories under root holding a Go package for
// the default build context, skipping what `go build ./...` skips
// (testdata, vendor, names starting with . or _, nested modules) and
// what Exclude names.
func packageDirs(ctx context.Context, root string, ex matcher) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && skipDir(p, d.Name(), root, ex) {
			return filepath.SkipDir
		}
		if hasPackage(p) {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sast: list packages: %w", err)
	}
	return dirs, nil
}

func skipDir(p, name, root string, ex matcher) bool {
	switch {
	case name == "testdata" || name == "vendor", strings.HasPrefix(name, "."), strings.HasPrefix(name, "_"):
		return true
	case fileExists(filepath.Join(p, "go.mod")):
		return true
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && ex.excludes(filepath.ToSlash(rel))
}

// hasPackage is true when the directory has non-test Go files that the
// current platform builds; gosec would only report the rest as errors.
func hasPackage(dir string) bool {
	pkg, err := build.ImportDir(dir, 0)
	var noGo *build.NoGoError
	switch {
	case errors.As(err, &noGo):
		return false
	case err != nil:
		return true // let gosec load it and report why it fails
	}
	return len(pkg.GoFiles)+len(pkg.CgoFiles) > 0
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
