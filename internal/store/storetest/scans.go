package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/store"
)

func runScans(t *testing.T, open Open) {
	t.Run("ScanRecord", func(t *testing.T) { testScanRecord(t, open(t)) })
	t.Run("ScanAtCommit", func(t *testing.T) { testScanAtCommit(t, open(t)) })
}

func recordScan(t testing.TB, s store.Store, sc *store.Scan) *store.Scan {
	t.Helper()
	if err := s.Scans().Record(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	return sc
}

func testScanRecord(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := scan.Finding{Scanner: scan.Secrets, Rule: "aws-access-token", Severity: scan.High, Path: "a.go", Line: 3,
		Snippet: "key = AKIA*****", Fingerprint: "fp1"}
	sc := recordScan(t, s, &store.Scan{RunID: 4, Step: "secrets", Dir: "/src", Commit: "c1", Scanner: scan.Secrets,
		Tool: "gitleaks 8.30.1", Scanned: 10, Warnings: []string{"w"}, At: t0, Findings: []scan.Finding{f, {Rule: "r2", Fingerprint: "fp2"}}})
	if sc.ID == 0 {
		t.Fatal("Record did not set the ID")
	}
	recordScan(t, s, &store.Scan{RunID: 5, Dir: "/src", Commit: "c1", Scanner: scan.Deps, At: t0})
	got, err := s.Scans().ForRun(ctx, 4)
	if err != nil || len(got) != 1 {
		t.Fatalf("ForRun: %v %d", err, len(got))
	}
	g := got[0]
	if g.Step != "secrets" || g.Tool != "gitleaks 8.30.1" || g.Scanned != 10 || len(g.Warnings) != 1 || !g.At.Equal(t0) {
		t.Errorf("scan = %+v", g)
	}
	if len(g.Findings) != 2 || g.Findings[0] != f || g.Findings[1].Fingerprint != "fp2" {
		t.Errorf("findings = %+v", g.Findings)
	}
	// Deleting the run deletes its scans.
	if err := s.Runs().Delete(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Scans().ForRun(ctx, 4); len(got) != 0 {
		t.Errorf("scans of a deleted run remain: %d", len(got))
	}
}

func testScanAtCommit(t *testing.T, s store.Store) {
	ctx := context.Background()
	old := recordScan(t, s, &store.Scan{Dir: "/src", Commit: "base", Scanner: scan.Secrets, At: t0,
		Findings: []scan.Finding{{Rule: "r", Fingerprint: "old"}}})
	newer := recordScan(t, s, &store.Scan{Dir: "/src", Commit: "base", Scanner: scan.Secrets, At: t0.Add(time.Minute),
		Findings: []scan.Finding{{Rule: "r", Fingerprint: "new"}}})
	deps := recordScan(t, s, &store.Scan{Dir: "/src", Commit: "base", Scanner: scan.Deps, At: t0})
	recordScan(t, s, &store.Scan{Dir: "/other", Commit: "base", Scanner: scan.Secrets, At: t0})
	got, err := s.Scans().AtCommit(ctx, "/src", "base")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != deps.ID || got[1].ID != newer.ID || got[1].ID == old.ID {
		t.Fatalf("AtCommit = %+v", got)
	}
	if got[1].Findings[0].Fingerprint != "new" || got[0].Findings == nil {
		t.Errorf("findings: %+v / %+v", got[1].Findings, got[0].Findings)
	}
	if none, err := s.Scans().AtCommit(ctx, "/src", "other"); err != nil || len(none) != 0 {
		t.Errorf("AtCommit of an unscanned commit: %v %v", none, err)
	}
}
