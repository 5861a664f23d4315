// Package osv keeps an offline copy of OSV vulnerability records
// (https://ossf.github.io/osv-schema/) and matches packages against it.
// One update writes the records in two layouts: osv-scanner's offline
// database (<Ecosystem>/all.zip) and the Go vulnerability database that
// govulncheck reads with -db file://.
package osv

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Record is one OSV vulnerability record: the fields matching needs, plus
// the record's original bytes, which are what the database stores.
type Record struct {
	ID               string          `json:"id"`
	Modified         time.Time       `json:"modified"`
	Published        time.Time       `json:"published,omitzero"`
	Withdrawn        *time.Time      `json:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Score         `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// Score is a severity score, e.g. {CVSS_V3, "CVSS:3.1/AV:N/..."}.
type Score struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one package a record affects and at which versions.
type Affected struct {
	Package           Package         `json:"package"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	Severity          []Score         `json:"severity,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package names a package in an ecosystem ("Go", "npm", "PyPI",
// "crates.io", ...). Version is only set in queries.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
	Version   string `json:"-"`
}

// Range is a set of affected versions given by events.
type Range struct {
	Type   string  `json:"type"` // SEMVER, ECOSYSTEM or GIT
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one bound of a range; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link about the vulnerability.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// ErrInvalidRecord marks input that is not a usable OSV record.
var ErrInvalidRecord = errors.New("invalid OSV record")

// Record IDs become file names: keep them to OSV's character set.
var (
	idRe        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	ecosystemRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._:+-]{0,63}$`)
)

// ParseRecord decodes and checks one OSV record.
func ParseRecord(data []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	if !idRe.MatchString(r.ID) {
		return nil, fmt.Errorf("%w: bad id %q", ErrInvalidRecord, clip(r.ID))
	}
	if r.Modified.IsZero() {
		return nil, fmt.Errorf("%w: %s: no modified time", ErrInvalidRecord, r.ID)
	}
	for _, a := range r.Affected {
		if a.Package.Name == "" || !ecosystemRe.MatchString(a.Package.Ecosystem) {
			return nil, fmt.Errorf("%w: %s: affected package %q in ecosystem %q", ErrInvalidRecord, r.ID, clip(a.Package.Name), clip(a.Package.Ecosystem))
		}
	}
	r.Raw = append(json.RawMessage(nil), data...)
	return &r, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
