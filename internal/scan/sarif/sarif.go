// Package sarif writes scan reports as SARIF 2.1.0 and reads SARIF 2.1.0
// produced by other tools (gosec, golangci-lint, semgrep, eslint, gitleaks)
// into the same reports, so that every finding gets a severity and a stable
// fingerprint whoever found it.
package sarif

import (
	"strings"

	"github.com/slipway-ci/slipway/internal/scan"
)

// Version is the SARIF version written and the only one read.
const Version = "2.1.0"

// SchemaURI is the $schema written into every log.
const SchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

// SrcRoot is the uriBaseId of every artifact location written: paths are
// relative to the scanned root, which a consumer (GitHub code scanning,
// an IDE) resolves to its checkout.
const SrcRoot = "%SRCROOT%"

// FingerprintKey names Slipway's fingerprint in partialFingerprints.
const FingerprintKey = "slipway/v1"

// Property names used in run and result property bags.
const (
	propScanner = "slipway/scanner"
	propTarget  = "slipway/target"
)

// NormalizeSnippet makes a code excerpt comparable across reformatting:
// runs of white space become one space and the ends are trimmed. Both the
// SAST scanner and Read fingerprint code this way, so gosec's own SARIF and
// the gosec library agree on a finding's identity.
func NormalizeSnippet(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// level maps a severity to a SARIF result level.
func level(s scan.Severity) string {
	switch {
	case s >= scan.High:
		return "error"
	case s == scan.Medium || s == scan.Unknown:
		return "warning" // SARIF's own default when nothing is known
	default:
		return "note"
	}
}

// securitySeverity is the CVSS-like score GitHub code scanning reads from a
// rule's "security-severity" property; each value sits inside the band
// that scan.SeverityOfScore maps back to the same severity.
func securitySeverity(s scan.Severity) string {
	switch s {
	case scan.Critical:
		return "9.5"
	case scan.High:
		return "8.0"
	case scan.Medium:
		return "5.5"
	case scan.Low:
		return "2.0"
	}
	return "0.0"
}

// informationURIs are the home pages of the tools Slipway runs.
var informationURIs = map[string]string{
	"gitleaks":    "https://github.com/gitleaks/gitleaks",
	"gosec":       "https://github.com/securego/gosec",
	"govulncheck": "https://pkg.go.dev/golang.org/x/vuln/cmd/govulncheck",
	"osv-scanner": "https://github.com/google/osv-scanner",
	"osv":         "https://osv.dev",
}

const slipwayURI = "https://github.com/slipway-ci/slipway"
