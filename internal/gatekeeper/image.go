package gatekeeper

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/image"
)

// ImageSource names the images an image scan reads and how to reach them.
type ImageSource interface {
	// ImageRefs resolves ref in the artifact registry, or, with ref empty,
	// returns the artifacts run runID published.
	ImageRefs(ctx context.Context, ref string, runID int64) ([]name.Reference, []remote.Option, error)
}

// ImageScanner matches the packages inside OCI images — from their
// attached SBOM, else their layers — against the OSV database:
// `with: {ref: hello:staging}`, or every artifact the run published so far.
type ImageScanner struct {
	Images ImageSource
	Source string // as DepsScanner.Source
}

// Kind implements Scanner.
func (ImageScanner) Kind() string { return scan.Image }

// Scan implements Scanner.
func (s ImageScanner) Scan(ctx context.Context, t Target) (*scan.Report, error) {
	if s.Images == nil {
		return nil, fmt.Errorf("%w: no artifact registry to read images from", ErrUsage)
	}
	ref, _ := t.With["ref"].(string)
	fresh, _ := t.With["require-fresh-db"].(bool)
	ignoreSBOM, _ := t.With["ignore-sbom"].(bool)
	refs, opts, err := s.Images.ImageRefs(ctx, ref, t.RunID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if err := fillDB(ctx, t, s.Source); err != nil {
		return nil, err
	}
	var all *scan.Report
	for _, r := range refs {
		rep, err := image.Scan(ctx, image.Options{Ref: r, Remote: opts, DB: VulnDBDir(t.StateDir),
			RequireFresh: fresh, IgnoreSBOM: ignoreSBOM})
		if err != nil {
			return nil, dbHint(err)
		}
		all = merge(all, rep)
	}
	return all, nil
}

// merge adds b's findings to a's; the warnings a database gives once per
// image are kept once.
func merge(a, b *scan.Report) *scan.Report {
	if a == nil {
		return b
	}
	a.Target += ", " + b.Target
	a.Scanned += b.Scanned
	a.Took += b.Took
	a.Findings = append(a.Findings, b.Findings...)
	seen := map[string]bool{}
	for _, w := range a.Warnings {
		seen[w] = true
	}
	for _, w := range b.Warnings {
		if !seen[w] {
			a.Warnings, seen[w] = append(a.Warnings, w), true
		}
	}
	return a
}
