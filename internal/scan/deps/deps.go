// Package deps is the dependency vulnerability scanner: it reads the
// lockfiles of a tree, matches their packages against the offline OSV
// database (package osv) and, for Go modules, asks govulncheck whether
// the vulnerable code is reachable.
package deps

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/lockfile"
	"github.com/slipway-ci/slipway/internal/scan/osv"
)

// DefaultMaxAge is how old the database may be before a scan warns.
const DefaultMaxAge = 7 * 24 * time.Hour

// ErrStaleDB is returned, wrapped, when Options.RequireFresh is set and the
// database is older than Options.MaxAge.
var ErrStaleDB = errors.New("vulnerability database is stale")

// Options configure a scan.
type Options struct {
	Root         string        // the tree to scan
	DB           string        // the database directory that osv.Update maintains
	MaxAge       time.Duration // default DefaultMaxAge
	RequireFresh bool          // a stale database is an error, not a warning
	// Reachability runs govulncheck on each Go module to tell called
	// vulnerable code from code that is only depended on.
	Reachability bool
	// Env is added to the environment of the go commands govulncheck
	// runs (e.g. GOFLAGS, GOPROXY for an offline module proxy).
	Env []string
	// Govulncheck runs govulncheck; nil means InProcess.
	Govulncheck Runner
}

// Scan scans opts.Root. Findings carry the lockfile and line that pin the
// vulnerable version. A malformed lockfile is an error.
func Scan(ctx context.Context, opts Options) (*scan.Report, error) {
	start := time.Now()
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Govulncheck == nil {
		opts.Govulncheck = InProcess
	}
	db, err := osv.Open(opts.DB)
	if err != nil {
		return nil, fmt.Errorf("scan deps: %w", err)
	}
	rep := &scan.Report{Scanner: scan.Deps, Tool: "slipway-deps (OSV)", Target: opts.Root, Findings: []scan.Finding{}}
	if msg := db.Staleness(opts.MaxAge); msg != "" {
		if opts.RequireFresh {
			return nil, fmt.Errorf("scan deps: %w: %s", ErrStaleDB, msg)
		}
		rep.Warnings = append(rep.Warnings, msg)
	}
	lfs, err := lockfile.Find(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("scan deps: %w", err)
	}
	for _, lf := range lfs {
		rep.Warnings = append(rep.Warnings, lf.Warnings...)
		rep.Scanned += len(lf.Packages)
		for _, p := range lf.Packages {
			for _, v := range db.Match(osv.Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}) {
				rep.Findings = append(rep.Findings, finding(p, v))
			}
		}
	}
	if opts.Reachability {
		if err := markReachability(ctx, rep, opts, db.GoVulnDB(), lfs); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("scan deps: %w", err)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

func finding(p lockfile.Package, v osv.Vuln) scan.Finding {
	title := v.Summary
	if title == "" {
		title = v.ID
	}
	return scan.Finding{
		Scanner: scan.Deps, Rule: v.ID, Severity: v.Severity, Title: title,
		Path: p.Path, Line: p.Line,
		Package: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, FixedIn: v.FixedIn,
		HelpURL:     helpURL(v.ID),
		Fingerprint: scan.Fingerprint(scan.Deps, v.ID, p.Ecosystem+"/"+p.Name, p.Version),
	}
}

func helpURL(id string) string {
	if len(id) > 3 && id[:3] == "GO-" {
		return "https://pkg.go.dev/vuln/" + id
	}
	return "https://osv.dev/vulnerability/" + id
}

// isGoMod reports whether a lockfile path is a go.mod.
func isGoMod(p string) bool { return path.Base(p) == "go.mod" }
