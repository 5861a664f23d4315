package sbom

import (
	"debug/buildinfo"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// FromGoBinary lists the main module, the Go standard library and every
// dependency recorded in a Go binary's build information, honouring
// replacements. It returns an error wrapping ErrNotGoBinary for anything
// that is not a Go executable with build information.
func FromGoBinary(r io.ReaderAt) ([]Package, error) {
	bi, err := buildinfo.Read(r)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w: %v", ErrNotGoBinary, err)
	}
	return binaryPackages(bi), nil
}

func binaryPackages(bi *debug.BuildInfo) []Package {
	var pkgs []Package
	mainPath := bi.Main.Path
	if mainPath == "" {
		mainPath = bi.Path // e.g. "command-line-arguments" for go build file.go
	}
	if mainPath != "" {
		main := goPackage(mainPath, moduleVersion(bi.Main.Version), bi.Main.Sum)
		main.Main = true
		pkgs = append(pkgs, main)
	}
	if v, ok := strings.CutPrefix(bi.GoVersion, "go"); ok && v != "" {
		// Vulnerability databases key the standard library as "stdlib".
		std := Package{Name: "stdlib", Version: bi.GoVersion, Type: TypeGolang, PURL: golangPURL("stdlib", v)}
		pkgs = append(pkgs, std)
	}
	for _, d := range bi.Deps {
		if d == nil {
			continue
		}
		switch {
		case d.Replace == nil:
			pkgs = append(pkgs, goPackage(d.Path, d.Version, d.Sum))
		case isDirectoryReplace(d.Replace): // no version, no hash
			pkgs = append(pkgs, goPackage(d.Path, "", ""))
		default:
			pkgs = append(pkgs, goPackage(d.Replace.Path, d.Replace.Version, d.Replace.Sum))
		}
	}
	return normalize(pkgs)
}

// moduleVersion drops "(devel)", which the go command records for modules
// built from a directory rather than a versioned download.
func moduleVersion(v string) string {
	if v == "(devel)" {
		return ""
	}
	return v
}

func isDirectoryReplace(m *debug.Module) bool {
	return moduleVersion(m.Version) == "" || strings.HasPrefix(m.Path, ".") || strings.HasPrefix(m.Path, "/")
}
