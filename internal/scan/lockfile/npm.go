package lockfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

type npmLock struct {
	LockfileVersion int                   `json:"lockfileVersion"`
	Packages        map[string]npmPackage `json:"packages"`     // v2, v3
	Dependencies    map[string]npmDep     `json:"dependencies"` // v1 (and v2 for old npm)
}

type npmPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Link    bool   `json:"link"`
}

type npmDep struct {
	Version      string            `json:"version"`
	Dependencies map[string]npmDep `json:"dependencies"`
}

// ParseNPM reads package-lock.json versions 1, 2 and 3 (and
// npm-shrinkwrap.json, which has the same shape).
func ParseNPM(path string, data []byte) ([]Package, error) {
	var lock npmLock
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, jsonErr(path, data, err)
	}
	lines, err := jsonKeyLines(data)
	if err != nil {
		return nil, jsonErr(path, data, err)
	}
	var pkgs []Package
	if lock.Packages != nil {
		for key, p := range lock.Packages {
			name := p.Name
			if name == "" {
				name = npmNameFromPath(key)
			}
			if key == "" || p.Link || name == "" || p.Version == "" {
				continue // the root project, workspace links
			}
			pkgs = append(pkgs, Package{Name: name, Version: p.Version, Ecosystem: NPM, Path: path, Line: lines["packages\x00"+key]})
		}
	} else {
		walkNPMv1(lock.Dependencies, "dependencies", func(name, key string, d npmDep) {
			pkgs = append(pkgs, Package{Name: name, Version: d.Version, Ecosystem: NPM, Path: path, Line: lines[key]})
		})
	}
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].Line < pkgs[j].Line })
	return pkgs, nil
}

func walkNPMv1(deps map[string]npmDep, prefix string, fn func(name, key string, d npmDep)) {
	for name, d := range deps {
		key := prefix + "\x00" + name
		// Aliases and git/file dependencies have a non-semver "version".
		if name != "" && d.Version != "" && !strings.Contains(d.Version, ":") {
			fn(name, key, d)
		}
		walkNPMv1(d.Dependencies, key+"\x00dependencies", fn)
	}
}

// npmNameFromPath turns "node_modules/a/node_modules/@s/b" into "@s/b".
func npmNameFromPath(key string) string {
	i := strings.LastIndex(key, "node_modules/")
	if i < 0 {
		return "" // a workspace directory, not an installed package
	}
	return key[i+len("node_modules/"):]
}

// jsonErr turns a decoding error into one with the line it happened on.
func jsonErr(path string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &ParseError{Path: path, Line: lineAt(data, syn.Offset), Err: err}
	case errors.As(err, &typ):
		return &ParseError{Path: path, Line: lineAt(data, typ.Offset), Err: fmt.Errorf("%s: want %s, got %s", typ.Field, typ.Type, typ.Value)}
	}
	return &ParseError{Path: path, Err: err}
}
