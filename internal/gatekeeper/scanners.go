package gatekeeper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/deps"
	"github.com/slipway-ci/slipway/internal/scan/osv"
	"github.com/slipway-ci/slipway/internal/scan/sast"
	"github.com/slipway-ci/slipway/internal/scan/secrets"
)

// VulnDBDir is where `slipway scan db update` keeps the OSV database.
func VulnDBDir(stateDir string) string { return filepath.Join(stateDir, "vulndb") }

// DepsScanner matches lockfiles against the state dir's OSV database.
type DepsScanner struct {
	// Source, when set, fills a missing database first (SLIPWAY_VULNDB_SOURCE).
	Source string
}

// Kind implements Scanner.
func (DepsScanner) Kind() string { return scan.Deps }

// Scan implements Scanner.
func (d DepsScanner) Scan(ctx context.Context, t Target) (*scan.Report, error) {
	fresh, _ := t.With["require-fresh-db"].(bool)
	if err := fillDB(ctx, t, d.Source); err != nil {
		return nil, err
	}
	rep, err := deps.Scan(ctx, deps.Options{Root: t.Dir, DB: VulnDBDir(t.StateDir), RequireFresh: fresh,
		Reachability: true, Env: os.Environ()})
	return rep, dbHint(err)
}

// fillDB fills a missing database from source, if any: a machine without
// one still scans. A stale one is left to `scan db update`.
func fillDB(ctx context.Context, t Target, source string) error {
	if _, err := osv.Open(VulnDBDir(t.StateDir)); !errors.Is(err, osv.ErrNoDB) || source == "" {
		return nil
	}
	if t.Log != nil {
		fmt.Fprintf(t.Log, "no vulnerability database yet; filling it from %s\n", source)
	}
	_, err := osv.Update(ctx, source, VulnDBDir(t.StateDir))
	return err
}

func dbHint(err error) error {
	if errors.Is(err, osv.ErrNoDB) {
		return fmt.Errorf("%w: run `slipway scan db update` first (it reads OSV records from a URL or a directory)", err)
	}
	return err
}

// SecretsScanner is gitleaks' detector over the tree, or over the commits
// of a range (`with: {git: base..head}`), with a per-file result cache in
// the state dir that keeps only redacted findings.
type SecretsScanner struct{}

// Kind implements Scanner.
func (SecretsScanner) Kind() string { return scan.Secrets }

// Scan implements Scanner.
func (SecretsScanner) Scan(ctx context.Context, t Target) (*scan.Report, error) {
	cache, err := secrets.NewFileCache(filepath.Join(t.StateDir, "scan-cache", "secrets"))
	if err != nil {
		return nil, err
	}
	rng, _ := t.With["git"].(string)
	if rng == "base" { // the change: from the run's base commit to HEAD
		if t.Change.Base == "" {
			return nil, fmt.Errorf("%w: git: base, but this change has no base commit (%s)", ErrUsage, t.Change.BaseReason)
		}
		rng = t.Change.Base + ".." + t.Change.Commit
	}
	rep, err := secrets.Scan(ctx, secrets.Options{Root: t.Dir, GitRange: rng, Cache: cache})
	if errors.Is(err, secrets.ErrUsage) {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return rep, err
}

// SASTScanner is gosec over the Go packages of the directory.
type SASTScanner struct{}

// Kind implements Scanner.
func (SASTScanner) Kind() string { return scan.SAST }

// Scan implements Scanner.
func (SASTScanner) Scan(ctx context.Context, t Target) (*scan.Report, error) {
	var exclude []string
	if xs, ok := t.With["exclude"].([]any); ok {
		for _, x := range xs {
			if s, ok := x.(string); ok {
				exclude = append(exclude, s)
			}
		}
	}
	return sast.Scan(ctx, sast.Options{Root: t.Dir, Exclude: exclude})
}
