package secrets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// IgnoreFile is the gitleaks ignore list at the root of a scanned tree.
const IgnoreFile = ".gitleaksignore"

// ignoreSet holds .gitleaksignore fingerprints as gitleaks writes them:
// "path:rule:line" for every finding on that line, and
// "commit:path:rule:line" for one commit's.
type ignoreSet map[string]struct{}

// parseIgnore reads .gitleaksignore content. Blank lines and # comments
// are skipped; backslashes in paths become slashes, as gitleaks does;
// entries of another shape are returned as warnings, not errors.
func parseIgnore(b []byte) (ignoreSet, []string) {
	set := ignoreSet{}
	var warnings []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		switch len(parts) {
		case 3:
			parts[0] = strings.ReplaceAll(parts[0], `\`, "/")
		case 4:
			parts[1] = strings.ReplaceAll(parts[1], `\`, "/")
		default:
			warnings = append(warnings, fmt.Sprintf("%s:%d: not path:rule:line or commit:path:rule:line", IgnoreFile, n))
			continue
		}
		set[strings.Join(parts, ":")] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		warnings = append(warnings, fmt.Sprintf("%s:%d: %v", IgnoreFile, n+1, err))
	}
	return set, warnings
}

// loadIgnore reads root/.gitleaksignore; a missing file is an empty set.
func loadIgnore(root string) (ignoreSet, []string, error) {
	b, err := os.ReadFile(filepath.Join(root, IgnoreFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("secrets: %w", err)
	}
	set, warn := parseIgnore(b)
	return set, warn, nil
}

// ignored reports whether the set lists a hit in path (at commit).
func (s ignoreSet) ignored(path, commit string, h Hit) bool {
	if len(s) == 0 {
		return false
	}
	tail := path + ":" + h.Rule + ":" + strconv.Itoa(h.Line)
	if _, ok := s[tail]; ok {
		return true
	}
	if commit == "" {
		return false
	}
	_, ok := s[commit+":"+tail]
	return ok
}
