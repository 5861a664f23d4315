// Package gatekeeper runs the security scanners of a checkout, records what
// they find, and (with the gates policy) decides whether a change may move
// forward. Scanners only report: a scan step succeeds whatever it finds, and
// only the gate fails. The scanners themselves live in internal/scan/*.
package gatekeeper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/store"
)

// Scanner is one kind of scan. Implementations are safe for concurrent use.
type Scanner interface {
	Kind() string // one of scan.Kinds
	Scan(ctx context.Context, t Target) (*scan.Report, error)
}

// Target is what a scan looks at.
type Target struct {
	Root     string         // checkout root, absolute
	Dir      string         // directory to scan, absolute (Root or below)
	Change   change.Info    // the commit, and the base for --git ranges
	With     map[string]any // the step's `with:` (scanner options)
	StateDir string         // for caches and the vulnerability database
	RunID    int64          // the run scanning, 0 outside one (its published images)
	Log      io.Writer
}

// ErrUsage is wrapped by errors in what the caller asked for (an unknown
// scanner, a bad option): exit code 2 at the CLI, not 1.
var ErrUsage = errors.New("usage")

// Options configure a Service.
type Options struct {
	Scans    store.Scans
	StateDir string
	Scanners []Scanner
	Tests    store.Tests // test results, for the tests metrics of the gate
	// LoadSpec reads a pipeline file, for the gate step (which needs the
	// policy and the steps' reports).
	LoadSpec func(path string) (*pipeline.Spec, error)
	Now      func() time.Time
}

// Service runs scanners and records their reports.
type Service struct {
	o        Options
	scanners map[string]Scanner
}

// New returns a Service with the given scanners.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{o: o, scanners: map[string]Scanner{}}
	for _, sc := range o.Scanners {
		s.scanners[sc.Kind()] = sc
	}
	return s
}

// Kinds lists the scanners this build has, sorted.
func (s *Service) Kinds() []string {
	var out []string
	for k := range s.scanners {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Scan runs one scanner and records its report (runID 0: outside a run).
func (s *Service) Scan(ctx context.Context, kind string, t Target, runID int64, step string) (*store.Scan, *scan.Report, error) {
	sc, ok := s.scanners[kind]
	if !ok {
		return nil, nil, fmt.Errorf("%w: no scanner %q (this build has %v)", ErrUsage, kind, s.Kinds())
	}
	start := s.o.Now()
	rep, err := sc.Scan(ctx, t)
	if err != nil {
		return nil, nil, err // scanners name themselves in their errors
	}
	if rep.Took == 0 {
		rep.Took = s.o.Now().Sub(start)
	}
	rep.Scanner = kind
	sortFindings(rep.Findings)
	rec := &store.Scan{RunID: runID, Step: step, Dir: t.Change.Root, Commit: t.Change.Commit, Scanner: kind, Tool: rep.Tool,
		Target: rep.Target, Scanned: rep.Scanned, Warnings: rep.Warnings, At: start.UTC(), Findings: rep.Findings}
	if rec.Dir == "" {
		rec.Dir = t.Root
	}
	if rec.Findings == nil {
		rec.Findings = []scan.Finding{}
	}
	if err := s.o.Scans.Record(ctx, rec); err != nil {
		return nil, rep, err
	}
	return rec, rep, nil
}

// sortFindings puts the worst first, then by location, so reports and
// "top findings" are stable.
func sortFindings(fs []scan.Finding) {
	slices.SortStableFunc(fs, func(a, b scan.Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity - a.Severity)
		}
		if a.Path != b.Path {
			if a.Path < b.Path {
				return -1
			}
			return 1
		}
		return a.Line - b.Line
	})
}
