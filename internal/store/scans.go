package store

import (
	"context"
	"time"

	"github.com/slipway-ci/slipway/internal/scan"
)

// Scan is one scanner's recorded result over one checkout: what the gate
// reads, and what "new since base" compares against.
type Scan struct {
	ID       int64          `json:"id"`
	RunID    int64          `json:"run_id,omitempty"` // 0 for `slipway scan` outside a run
	Step     string         `json:"step,omitempty"`
	Dir      string         `json:"dir"`    // the repository root
	Commit   string         `json:"commit"` // "" outside git
	Scanner  string         `json:"scanner"`
	Tool     string         `json:"tool"`
	Target   string         `json:"target"`
	Scanned  int            `json:"scanned"`
	Warnings []string       `json:"warnings,omitempty"`
	At       time.Time      `json:"at"`
	Findings []scan.Finding `json:"findings"`
}

// Scans keeps scan results. Record is atomic: a scan is stored with all
// its findings or not at all.
type Scans interface {
	// Record stores s and its findings and sets s.ID.
	Record(ctx context.Context, s *Scan) error
	// ForRun lists a run's scans, oldest first, with their findings.
	ForRun(ctx context.Context, runID int64) ([]*Scan, error)
	// AtCommit returns, per scanner, the newest scan of dir at commit, with
	// its findings; none is an empty list, not an error.
	AtCommit(ctx context.Context, dir, commit string) ([]*Scan, error)
}
