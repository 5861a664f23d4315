package lockfile

import (
	"regexp"
	"strings"
)

var (
	// A PEP 508 name with optional extras, then the operator and version.
	pinRe     = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(===?)\s*([^\s;,#]+)\s*(?:;.*)?$`)
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\s*(?:\[[^\]]*\])?\s*(?:[<>=!~].*)?(?:;.*)?$`)
	versionRe = regexp.MustCompile(`^[A-Za-z0-9.+!_-]+$`)
)

// ParseRequirements reads the pinned ("==" or "===") requirements of a
// pip requirements file. Unpinned requirements, options (-r, -e, --hash),
// URLs and local paths pin nothing and are skipped; a line that is none
// of these is an error.
func ParseRequirements(path string, data []byte) ([]Package, error) {
	var pkgs []Package
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := stripComment(lines[i])
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) { // continuation
			i++
			line = strings.TrimSuffix(line, `\`) + " " + stripComment(lines[i])
		}
		line = strings.TrimSpace(strings.TrimSuffix(line, `\`))
		line = dropHashes(line)
		if skipRequirement(line) {
			continue
		}
		m := pinRe.FindStringSubmatch(line)
		if m == nil {
			if nameRe.MatchString(line) && !strings.Contains(line, "==") {
				continue // a range or bare name: not pinned
			}
			return nil, parseErr(path, start, "not a requirement: %q", clip(line))
		}
		if !versionRe.MatchString(m[3]) || strings.Contains(m[3], "*") {
			return nil, parseErr(path, start, "bad version %q", clip(m[3]))
		}
		pkgs = append(pkgs, Package{Name: m[1], Version: m[3], Ecosystem: PyPI, Path: path, Line: start})
	}
	return pkgs, nil
}

func stripComment(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), "#") {
		return ""
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "\t#"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, " \t\r")
}

// dropHashes removes pip's per-requirement "--hash=..." options.
func dropHashes(line string) string {
	if i := strings.Index(line, " --"); i >= 0 && !strings.HasPrefix(line, "-") {
		return strings.TrimSpace(line[:i])
	}
	return line
}

func skipRequirement(line string) bool {
	return line == "" || strings.HasPrefix(line, "-") || strings.HasPrefix(line, ".") ||
		strings.HasPrefix(line, "/") || strings.Contains(line, "://") || strings.Contains(line, " @ ")
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
