package image

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/deps"
	"github.com/slipway-ci/slipway/internal/scan/osv"
)

// openDB opens the database and says whether it is too old, as the
// dependency scanner does.
func openDB(opts Options) (*osv.DB, []string, error) {
	if opts.MaxAge == 0 {
		opts.MaxAge = deps.DefaultMaxAge
	}
	db, err := osv.Open(opts.DB)
	if err != nil {
		return nil, nil, fmt.Errorf("scan image: %w", err)
	}
	msg := db.Staleness(opts.MaxAge)
	if msg == "" {
		return db, nil, nil
	}
	if opts.RequireFresh {
		return nil, nil, fmt.Errorf("scan image: %w: %s", deps.ErrStaleDB, msg)
	}
	return db, []string{msg}, nil
}

// report matches the inventory against db. A package found in several
// places (the stdlib of two binaries) is scanned once, at its first path.
func report(db *osv.DB, inv *inventory, subject, source string) *scan.Report {
	rep := &scan.Report{Scanner: scan.Image, Tool: Tool + " (" + source + ")", Target: subject, Findings: []scan.Finding{}}
	seen := map[string]bool{}
	var targets []target
	skipped := map[string]int{}
	for _, f := range inv.found {
		t, ok := resolve(f, inv.distro)
		if !ok {
			if f.purl.Version != "" {
				skipped[f.purl.Type]++
			}
			continue
		}
		key := t.Ecosystem + "\x00" + t.Name + "\x00" + t.Version
		if !seen[key] {
			seen[key] = true
			targets = append(targets, t)
		}
	}
	sort.Slice(targets, func(i, j int) bool {
		a, b := targets[i], targets[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Ecosystem+"\x00"+a.Name+"\x00"+a.Version < b.Ecosystem+"\x00"+b.Name+"\x00"+b.Version
	})
	rep.Scanned = len(targets)
	for _, t := range targets {
		for _, v := range db.Match(osv.Package{Ecosystem: t.Ecosystem, Name: t.Query, Version: t.Version}) {
			rep.Findings = append(rep.Findings, finding(t, v))
		}
	}
	if len(skipped) > 0 {
		rep.Warnings = append(rep.Warnings, skippedWarning(skipped, inv.distro))
	}
	return rep
}

func finding(t target, v osv.Vuln) scan.Finding {
	title := v.Summary
	if title == "" {
		title = v.ID
	}
	if t.Query != t.Name {
		title += " (source package " + t.Query + ")"
	}
	return scan.Finding{
		Scanner: scan.Image, Rule: v.ID, Severity: v.Severity, Title: title, Path: t.Path,
		Package: t.Name, Version: t.Version, Ecosystem: t.Ecosystem, FixedIn: v.FixedIn,
		HelpURL:     helpURL(v.ID),
		Fingerprint: scan.Fingerprint(scan.Image, v.ID, t.Ecosystem+"/"+t.Name, t.Version),
	}
}

func helpURL(id string) string {
	if strings.HasPrefix(id, "GO-") {
		return "https://pkg.go.dev/vuln/" + id
	}
	return "https://osv.dev/vulnerability/" + id
}

func skippedWarning(skipped map[string]int, d distro) string {
	var parts []string
	for typ, n := range skipped {
		parts = append(parts, fmt.Sprintf("%d %s", n, typ))
	}
	sort.Strings(parts)
	msg := "packages not matched, no OSV ecosystem for them: " + strings.Join(parts, ", ")
	if skipped["deb"] > 0 && d.ID != "" {
		msg += fmt.Sprintf(" (distribution %q %s)", d.ID, d.VersionID)
	}
	return msg
}
