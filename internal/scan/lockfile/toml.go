package lockfile

import (
	"bytes"
	"errors"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// tomlPackage is a [[package]] entry of poetry.lock and Cargo.lock.
type tomlPackage struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
	Source  any    `toml:"source"` // Cargo: a string; Poetry: a table
}

// parseTOMLPackages decodes the [[package]] array and finds the line of
// each entry's header, in order.
func parseTOMLPackages(path string, data []byte) ([]tomlPackage, []int, error) {
	var doc struct {
		Package []tomlPackage `toml:"package"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return nil, nil, &ParseError{Path: path, Line: row, Err: errString(de.Error())}
		}
		return nil, nil, &ParseError{Path: path, Err: err}
	}
	var lines []int
	for i, l := range bytes.Split(data, []byte("\n")) {
		if string(bytes.TrimSpace(l)) == "[[package]]" {
			lines = append(lines, i+1)
		}
	}
	return doc.Package, lines, nil
}

func lineOf(lines []int, i int) int {
	if i < len(lines) {
		return lines[i]
	}
	return 0
}

// ParsePoetry reads poetry.lock.
func ParsePoetry(path string, data []byte) ([]Package, error) {
	return tomlReleases(path, data, PyPI, func(e tomlPackage) bool {
		src, ok := e.Source.(map[string]any)
		return !ok || src["type"] == "legacy" || src["type"] == nil // not git, directory, file or url
	})
}

// ParseCargo reads Cargo.lock. Workspace and path crates (no source) and
// git crates are not registry releases and are skipped.
func ParseCargo(path string, data []byte) ([]Package, error) {
	return tomlReleases(path, data, Crates, func(e tomlPackage) bool {
		src, _ := e.Source.(string)
		return strings.HasPrefix(src, "registry+") || strings.HasPrefix(src, "sparse+")
	})
}

// tomlReleases returns the [[package]] entries that release says come from
// the ecosystem's registry.
func tomlReleases(path string, data []byte, eco string, release func(tomlPackage) bool) ([]Package, error) {
	entries, lines, err := parseTOMLPackages(path, data)
	if err != nil {
		return nil, err
	}
	var pkgs []Package
	for i, e := range entries {
		if e.Name == "" || e.Version == "" {
			return nil, parseErr(path, lineOf(lines, i), "[[package]] without name or version")
		}
		if release(e) {
			pkgs = append(pkgs, Package{Name: e.Name, Version: e.Version, Ecosystem: eco, Path: path, Line: lineOf(lines, i)})
		}
	}
	return pkgs, nil
}
