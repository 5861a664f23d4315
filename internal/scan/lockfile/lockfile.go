// Package lockfile reads the dependency lockfiles of a source tree (go.mod,
// package-lock.json, requirements.txt, poetry.lock, Cargo.lock) into a flat
// list of packages that can be matched against a vulnerability database.
package lockfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Ecosystems, spelled as in OSV records.
const (
	Go     = "Go"
	NPM    = "npm"
	PyPI   = "PyPI"
	Crates = "crates.io"
)

// Package is one dependency pinned by a lockfile.
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	Path      string `json:"path"`           // the lockfile, slash-separated
	Line      int    `json:"line,omitempty"` // where the package is pinned, 0 if unknown
}

// Lockfile is one parsed lockfile.
type Lockfile struct {
	Path     string    `json:"path"` // slash-separated, relative to the root given to Find
	Packages []Package `json:"packages"`
	// Warnings are problems that do not stop the scan, e.g. a go.mod
	// without go.sum.
	Warnings []string `json:"warnings,omitempty"`
}

// ParseError says which lockfile is malformed, and where when known.
type ParseError struct {
	Path string
	Line int // 0 if unknown
	Err  error
}

// Error is "path:line: what is wrong".
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

func parseErr(path string, line int, format string, args ...any) error {
	return &ParseError{Path: path, Line: line, Err: fmt.Errorf(format, args...)}
}

// parser reads one kind of lockfile; path is only used in errors and in
// the packages it returns.
type parser func(path string, data []byte) ([]Package, error)

var parsers = map[string]parser{
	"go.mod":            ParseGoMod,
	"package-lock.json": ParseNPM,
	"requirements.txt":  ParseRequirements,
	"poetry.lock":       ParsePoetry,
	"Cargo.lock":        ParseCargo,
}

// Known reports whether name (a base name) is a lockfile this package reads.
func Known(name string) bool { return parsers[name] != nil }

// Parse reads the lockfile named path (its base name selects the parser).
func Parse(path string, data []byte) ([]Package, error) {
	p := parsers[filepath.Base(path)]
	if p == nil {
		return nil, fmt.Errorf("%s: not a known lockfile", path)
	}
	pkgs, err := p(path, data)
	return dedup(pkgs), err
}

// skipDirs are never descended into: vendored copies and other trees'
// lockfiles are not this project's dependencies.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true}

// Find walks root and parses every lockfile in it. It returns the lockfiles
// it could read and, joined, an error for each one it could not.
func Find(root string) ([]Lockfile, error) {
	var out []Lockfile
	var errs []error
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !Known(d.Name()) || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		lf, err := readLockfile(p, filepath.ToSlash(rel))
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		out = append(out, lf)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("find lockfiles in %s: %w", root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, errors.Join(errs...)
}

func readLockfile(file, rel string) (Lockfile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Lockfile{}, fmt.Errorf("read lockfile: %w", err)
	}
	pkgs, err := Parse(rel, data)
	if err != nil {
		return Lockfile{}, err
	}
	lf := Lockfile{Path: rel, Packages: pkgs}
	if path.Base(rel) == "go.mod" && len(pkgs) > 0 {
		if _, err := os.Stat(filepath.Join(filepath.Dir(file), "go.sum")); err != nil {
			lf.Warnings = append(lf.Warnings, rel+": no go.sum beside it: module versions are not verified")
		}
	}
	return lf, nil
}

// dedup keeps the first occurrence of each ecosystem/name@version.
func dedup(pkgs []Package) []Package {
	seen := make(map[string]bool, len(pkgs))
	out := pkgs[:0]
	for _, p := range pkgs {
		k := p.Ecosystem + "\x00" + p.Name + "\x00" + p.Version
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// lineAt is the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	if off < 0 {
		return 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// trimQuotes removes one pair of matching quotes.
func trimQuotes(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return strings.TrimSpace(s)
}
