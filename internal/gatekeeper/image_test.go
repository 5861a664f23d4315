package gatekeeper

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/scan"
)

func TestMergeReports(t *testing.T) {
	a := &scan.Report{Target: "a", Scanned: 2, Findings: []scan.Finding{{Rule: "X"}}, Warnings: []string{"stale db"}}
	b := &scan.Report{Target: "b", Scanned: 3, Findings: []scan.Finding{{Rule: "Y"}}, Warnings: []string{"stale db", "other"}}
	got := merge(merge(nil, a), b)
	if got.Target != "a, b" || got.Scanned != 5 || len(got.Findings) != 2 || len(got.Warnings) != 2 {
		t.Errorf("merge = %+v", got)
	}
}

type noImages struct{ err error }

func (n noImages) ImageRefs(context.Context, string, int64) ([]name.Reference, []remote.Option, error) {
	return nil, nil, n.err
}

// Naming no image outside a run is the caller's mistake: exit code 2.
func TestImageScannerUsage(t *testing.T) {
	for _, s := range []ImageScanner{{}, {Images: noImages{errors.New("no image named")}}} {
		if _, err := s.Scan(context.Background(), Target{StateDir: t.TempDir()}); !errors.Is(err, ErrUsage) {
			t.Errorf("%+v: err = %v, want ErrUsage", s, err)
		}
	}
}
