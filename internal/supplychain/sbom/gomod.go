package sbom

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// maxModFileSize bounds how much of go.mod and go.sum is read.
const maxModFileSize = 64 << 20

// FromGoModule lists the main module and every module it requires (direct
// and indirect) from dir/go.mod, with h1 hashes from dir/go.sum when present.
// Replace directives are honoured: a module replaced by another module is
// reported as the replacement; one replaced by a directory keeps its path and
// loses its version and hash.
func FromGoModule(dir string) ([]Package, error) {
	modPath := filepath.Join(dir, "go.mod")
	data, err := readBounded(modPath)
	if err != nil {
		return nil, err
	}
	mf, err := parseGoMod(modPath, data)
	if err != nil {
		return nil, err
	}
	sumPath := filepath.Join(dir, "go.sum")
	sums := map[module.Version]string{}
	if data, err := readBounded(sumPath); err == nil {
		if sums, err = parseGoSum(sumPath, data); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return modulePackages(mf, sums), nil
}

func readBounded(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	if fi.Size() > maxModFileSize {
		return nil, fmt.Errorf("sbom: %s: larger than %d bytes", path, maxModFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	return data, nil
}

// parseGoMod parses go.mod strictly; modfile's errors already carry file:line.
func parseGoMod(name string, data []byte) (*modfile.File, error) {
	mf, err := modfile.Parse(name, data, nil)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	if mf.Module == nil || mf.Module.Mod.Path == "" {
		return nil, fmt.Errorf("sbom: %s: no module directive", name)
	}
	return mf, nil
}

// parseGoSum reads "module version h1:hash" lines; "/go.mod" lines hash
// only the go.mod file and are skipped.
func parseGoSum(name string, data []byte) (map[module.Version]string, error) {
	sums := map[module.Version]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxModFileSize)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("sbom: %s:%d: malformed go.sum line: want 3 fields, have %d", name, n, len(f))
		}
		if !strings.HasPrefix(f[2], "h1:") {
			continue // unknown hash algorithms are ignored, as the go command does
		}
		if _, err := h1ToHex(f[2]); err != nil {
			return nil, fmt.Errorf("sbom: %s:%d: %w", name, n, err)
		}
		if strings.HasSuffix(f[1], "/go.mod") {
			continue
		}
		sums[module.Version{Path: f[0], Version: f[1]}] = f[2]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sbom: %s: %w", name, err)
	}
	return sums, nil
}

func modulePackages(mf *modfile.File, sums map[module.Version]string) []Package {
	pkgs := []Package{{
		Name: mf.Module.Mod.Path, Type: TypeGolang, Main: true,
		PURL: golangPURL(mf.Module.Mod.Path, ""),
	}}
	for _, r := range mf.Require {
		mod := applyReplace(r.Mod, mf.Replace)
		pkgs = append(pkgs, goPackage(mod.Path, mod.Version, sums[mod]))
	}
	return normalize(pkgs)
}

// applyReplace returns the module that replaces m: a version-specific
// replacement wins over a path-wide one; a directory replacement yields the
// original path with no version.
func applyReplace(m module.Version, reps []*modfile.Replace) module.Version {
	var match *modfile.Replace
	for _, r := range reps {
		if r.Old.Path != m.Path {
			continue
		}
		if r.Old.Version == m.Version {
			match = r
			break
		}
		if r.Old.Version == "" {
			match = r
		}
	}
	switch {
	case match == nil:
		return m
	case match.New.Version == "": // local directory
		return module.Version{Path: m.Path}
	default:
		return match.New
	}
}

func goPackage(path, version, h1 string) Package {
	p := Package{Name: path, Version: version, Type: TypeGolang, PURL: golangPURL(path, version)}
	if h1 != "" {
		p.Hashes = map[string]string{"h1": h1}
	}
	return p
}
