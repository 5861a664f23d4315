// Package secrets is the secrets scanner (`uses: scan/secrets`): gitleaks'
// detector and rules, used as a library, over a working tree or over the
// commits of a change. Tree scans are incremental: each file's result is
// cached under its content hash, so a rescan reads every file but runs the
// detector only on those that changed. No secret leaves this package: a
// Finding carries the line with the secret redacted and a fingerprint over
// the secret's sha256, and the cache stores nothing else.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/internal/scan"
)

// Options says what to scan and how.
type Options struct {
	// Root is the working tree (or, with GitRange, the repository).
	Root string
	// GitRange, when set ("base..head", or one revision for its history),
	// scans the lines those commits added instead of the tree.
	GitRange string
	// Cache, when set, makes tree scans incremental. Unused for GitRange.
	Cache Cache
	// ConfigFile is a gitleaks TOML config; empty means gitleaks' default
	// rules. A .gitleaks.toml in the tree is not read implicitly, so a
	// change cannot weaken the rules that judge it.
	ConfigFile string
	// Workers bounds detection goroutines; 0 means GOMAXPROCS.
	Workers int
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// ErrUsage marks bad options (no root, a malformed range).
var ErrUsage = errors.New("secrets: bad options")

// Scan runs the secrets scanner. Findings are sorted by path, line and
// column; .gitleaksignore at the root and gitleaks:allow comments are
// honoured as the gitleaks CLI honours them.
func Scan(ctx context.Context, opts Options) (*scan.Report, error) {
	start := time.Now()
	if opts.Root == "" {
		return nil, fmt.Errorf("%w: no root", ErrUsage)
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrUsage, opts.Root)
	}
	opts.Root = root
	r, err := rulesFor(opts.ConfigFile)
	if err != nil {
		return nil, err
	}
	ignore, warnings, err := loadIgnore(root)
	if err != nil {
		return nil, err
	}
	rep := &scan.Report{
		Scanner:  scan.Secrets,
		Tool:     "gitleaks " + strings.TrimPrefix(GitleaksVersion(), "v"),
		Target:   root,
		Warnings: warnings,
	}
	if opts.GitRange != "" {
		rep.Target = root + "@" + opts.GitRange
		err = scanGit(ctx, opts, r, ignore, rep)
	} else {
		err = scanTree(ctx, opts, r, ignore, rep)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rep.Findings, compareFindings)
	rep.Took = time.Since(start)
	return rep, nil
}

func scanTree(ctx context.Context, opts Options, r *rules, ignore ignoreSet, rep *scan.Report) error {
	s := &treeScan{opts: opts, rules: r, det: r.detector(ctx), results: map[string][]Hit{}}
	if err := s.run(ctx); err != nil {
		return err
	}
	for path, hits := range s.results {
		for _, h := range hits {
			if !ignore.ignored(path, "", h) {
				rep.Findings = append(rep.Findings, h.finding(path, ""))
			}
		}
	}
	rep.Scanned, rep.Cached = s.scanned, s.cached
	slices.Sort(s.warn)
	rep.Warnings = append(rep.Warnings, s.warn...)
	return nil
}

func compareFindings(a, b scan.Finding) int {
	return cmpAll(
		strings.Compare(a.Path, b.Path),
		a.Line-b.Line,
		a.Column-b.Column,
		strings.Compare(a.Rule, b.Rule),
		strings.Compare(a.Commit, b.Commit),
		strings.Compare(a.Fingerprint, b.Fingerprint),
	)
}

func cmpAll(cs ...int) int {
	for _, c := range cs {
		if c != 0 {
			return c
		}
	}
	return 0
}
