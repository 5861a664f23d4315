package sbom

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// maxDpkgLine bounds one line of a dpkg status file (long descriptions and
// Conffiles lists stay far below it).
const maxDpkgLine = 1 << 20

// FromDpkgStatus lists the Debian packages of a dpkg status database
// (/var/lib/dpkg/status) whose Status is "install ok installed".
func FromDpkgStatus(r io.Reader) ([]Package, error) {
	return parseDpkg(r, true)
}

// parseDpkg parses RFC 822-style paragraphs. Distroless status.d files carry
// no Status field, so requireStatus is false for them; a Status that is
// present must still say installed.
func parseDpkg(r io.Reader, requireStatus bool) ([]Package, error) {
	var pkgs []Package
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxDpkgLine)
	para := map[string]string{}
	start, n := 0, 0
	flush := func() error {
		defer clear(para)
		if len(para) == 0 {
			return nil
		}
		if p, ok, err := dpkgPackage(para, requireStatus); err != nil {
			return fmt.Errorf("sbom: dpkg status: paragraph at line %d: %w", start, err)
		} else if ok {
			pkgs = append(pkgs, p)
		}
		return nil
	}
	var last string
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if err := flush(); err != nil {
				return nil, err
			}
			last = ""
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("sbom: dpkg status: line %d: continuation line without a field", n)
			}
			// Continuations only matter for the fields we keep, which are single-line.
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("sbom: dpkg status: line %d: want \"Field: value\"", n)
			}
			if len(para) == 0 {
				start = n
			}
			last = strings.TrimSpace(k)
			switch last {
			case "Package", "Status", "Version", "Architecture", "Source":
				para[last] = strings.TrimSpace(v)
			default:
				para[last] = ""
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sbom: dpkg status: line %d: %w", n+1, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return normalize(pkgs), nil
}

func dpkgPackage(f map[string]string, requireStatus bool) (Package, bool, error) {
	status, hasStatus := f["Status"]
	if hasStatus || requireStatus {
		if strings.Join(strings.Fields(status), " ") != "install ok installed" {
			return Package{}, false, nil
		}
	}
	name, version := f["Package"], f["Version"]
	if name == "" {
		return Package{}, false, fmt.Errorf("no Package field")
	}
	if version == "" {
		return Package{}, false, fmt.Errorf("package %s: no Version field", name)
	}
	// Source is "name" or "name (version)".
	source, _, _ := strings.Cut(f["Source"], " ")
	return Package{
		Name: name, Version: version, Type: TypeDeb,
		PURL: debPURL(name, version, f["Architecture"], source),
	}, true, nil
}
