package quality

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/internal/yamlpos"
	"go.yaml.in/yaml/v3"
)

// QuarantineFile is where a repository keeps its quarantine, relative to
// its root.
const QuarantineFile = ".slipway/quarantine.yaml"

// Quarantine lists the known-flaky tests whose failures do not fail a step
// until the entry expires. Every entry has an owner, a reason and an expiry,
// so a quarantine is a tracked debt rather than a silent skip.
type Quarantine struct {
	Entries []Entry
}

// Entry is one quarantined test (or set of tests).
//
// Test and Suite are exact names or path.Match globs ("TestFlaky*",
// "example.com/*"); an empty Suite matches any suite. A Go subtest is
// covered by an entry for its parent: "TestX" also quarantines "TestX/sub".
//
// Expires given as a date (a time at midnight UTC) lasts until the end of
// that day in UTC; any other time is the exact instant the entry stops
// applying. See ExpiresAt.
type Entry struct {
	Test, Suite, Owner, Reason string
	Expires                    time.Time
	// Where the entry is written, for messages ("file:line:col").
	Line, Col int
	File      string
}

var (
	quarantineKeys = []string{"quarantine"}
	entryKeys      = []string{"test", "suite", "owner", "reason", "expires"}
	requiredKeys   = []string{"test", "owner", "reason", "expires"}
)

// LoadQuarantine reads a quarantine file. A missing file is an empty
// quarantine: most repositories have none.
func LoadQuarantine(path string) (*Quarantine, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Quarantine{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading quarantine: %w", err)
	}
	return ParseQuarantine(path, data)
}

// ParseQuarantine parses a quarantine file. name is used in error messages;
// every problem of the file is reported at once, each with file:line:col
// (the error is a yamlpos.Errors).
func ParseQuarantine(name string, data []byte) (*Quarantine, error) {
	root, err := yamlpos.Parse(name, data)
	if err != nil {
		return nil, err
	}
	d := &yamlpos.Decoder{File: name}
	q := &Quarantine{}
	for _, f := range d.Mapping(root, "quarantine file", quarantineKeys) {
		q.Entries = parseEntries(d, f.Value)
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return q, nil
}

func parseEntries(d *yamlpos.Decoder, n *yaml.Node) []Entry {
	if yamlpos.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, "quarantine must be a list of entries, not %s", yamlpos.KindName(n))
		return nil
	}
	var out []Entry
	seen := map[[2]string]Entry{}
	for _, item := range n.Content {
		e, ok := parseEntry(d, item)
		if !ok {
			continue
		}
		key := [2]string{e.Suite, e.Test}
		if first, dup := seen[key]; dup {
			d.Errorf(item, "quarantine entry: test %q%s is already quarantined at line %d", e.Test, inSuite(e.Suite), first.Line)
			continue
		}
		seen[key] = e
		out = append(out, e)
	}
	return out
}

func parseEntry(d *yamlpos.Decoder, item *yaml.Node) (Entry, bool) {
	for item.Kind == yaml.AliasNode && item.Alias != nil {
		item = item.Alias
	}
	e := Entry{File: d.File, Line: item.Line, Col: item.Column}
	if yamlpos.IsNull(item) {
		d.Errorf(item, "quarantine entry is empty: it needs %s", strings.Join(requiredKeys, ", "))
		return e, false
	}
	if item.Kind != yaml.MappingNode {
		d.Errorf(item, "quarantine entry must be a mapping with %s, not %s", strings.Join(requiredKeys, ", "), yamlpos.KindName(item))
		return e, false
	}
	before := errCount(d)
	fields := d.Mapping(item, "quarantine entry", entryKeys)
	present := map[string]bool{}
	for _, f := range fields {
		present[f.Name] = true
		what := "quarantine entry: " + f.Name
		switch f.Name {
		case "test":
			e.Test = strings.TrimSpace(d.String(f.Value, what))
			_ = checkNotEmpty(d, f.Value, what, e.Test) && checkPattern(d, f.Value, what, e.Test)
		case "suite":
			e.Suite = strings.TrimSpace(d.String(f.Value, what))
			checkPattern(d, f.Value, what, e.Suite)
		case "owner":
			e.Owner = strings.TrimSpace(d.String(f.Value, what))
			checkNotEmpty(d, f.Value, what, e.Owner)
		case "reason":
			e.Reason = strings.TrimSpace(d.String(f.Value, what))
			checkNotEmpty(d, f.Value, what, e.Reason)
		case "expires":
			if checkNotEmpty(d, f.Value, what, "-") {
				e.Expires = d.Date(f.Value, what)
			}
		}
	}
	for _, k := range requiredKeys {
		if !present[k] {
			d.Errorf(item, "quarantine entry: missing required key %q", k)
		}
	}
	ok := errCount(d) == before
	if ok && matchesAll(e.Test) && (e.Suite == "" || matchesAll(e.Suite)) {
		d.Errorf(item, "quarantine entry would quarantine every test: name the test or its suite")
		ok = false
	}
	return e, ok
}

// checkNotEmpty reports an empty or null value; a value of the wrong kind
// was already reported by the decoder.
// errCount is the number of problems d has recorded so far.
func errCount(d *yamlpos.Decoder) int {
	var es yamlpos.Errors
	if errors.As(d.Err(), &es) {
		return len(es)
	}
	return 0
}

func checkNotEmpty(d *yamlpos.Decoder, n *yaml.Node, what, v string) bool {
	if !yamlpos.IsNull(n) && n.Kind != yaml.ScalarNode {
		return false
	}
	if yamlpos.IsNull(n) || v == "" {
		d.Errorf(n, "%s must not be empty", what)
		return false
	}
	return true
}

func checkPattern(d *yamlpos.Decoder, n *yaml.Node, what, pattern string) bool {
	if _, err := path.Match(pattern, ""); err != nil {
		d.Errorf(n, "%s: %q is not a valid pattern (write \\[ to match a literal [)", what, pattern)
		return false
	}
	return true
}

// matchesAll reports whether a pattern is only wildcards.
func matchesAll(pattern string) bool {
	return pattern != "" && strings.Trim(pattern, "*") == ""
}

func inSuite(suite string) string {
	if suite == "" {
		return ""
	}
	return fmt.Sprintf(" in suite %q", suite)
}
