package lockfile

import (
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// ParseGoMod reads the requirements of a go.mod, following replace
// directives that point at another module version (a replacement by a
// local directory keeps the required version: that is what the lockfile
// pins). Versions keep Go's "v" prefix.
func ParseGoMod(path string, data []byte) ([]Package, error) {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, goModErr(path, err)
	}
	replaced := make(map[string]module.Version)
	for _, r := range f.Replace {
		if r.New.Version == "" { // local directory
			continue
		}
		replaced[r.Old.Path] = r.New
		if r.Old.Version != "" {
			replaced[r.Old.Path+"@"+r.Old.Version] = r.New
		}
	}
	var pkgs []Package
	for _, r := range f.Require {
		mv := r.Mod
		if n, ok := replaced[mv.Path+"@"+mv.Version]; ok {
			mv = n
		} else if n, ok := replaced[mv.Path]; ok {
			mv = n
		}
		line := 0
		if r.Syntax != nil {
			line = r.Syntax.Start.Line
		}
		pkgs = append(pkgs, Package{Name: mv.Path, Version: mv.Version, Ecosystem: Go, Path: path, Line: line})
	}
	return pkgs, nil
}

// goModErr wraps modfile's errors, which already carry "file:line:".
func goModErr(path string, err error) error {
	if list, ok := err.(modfile.ErrorList); ok && len(list) > 0 {
		e := list[0]
		msg := e.Error()
		if e.Err != nil {
			msg = e.Err.Error()
		}
		return &ParseError{Path: path, Line: e.Pos.Line, Err: errString(msg)}
	}
	return &ParseError{Path: path, Err: errString(strings.TrimPrefix(err.Error(), path+":"))}
}

type errString string

func (e errString) Error() string { return string(e) }
