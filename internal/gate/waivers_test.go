package gate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ci/slipway/internal/scan"
)

const waiversYAML = `waivers:
  - fingerprint: fp-secret
    owner: alice
    reason: fake key in a test fixture
    expires: 2027-01-31
  - rule: G404
    scanner: sast
    path: internal/legacy/**
    owner: bob
    reason: weak random is fine for jitter
    expires: 2027-06-30
  - rule: GO-2024-0001
    owner: carol
    reason: not reachable, upgrade planned
    expires: 2026-12-31
  - fingerprint: fp-gone
    owner: dave
    reason: fixed since
    expires: 2027-12-31
`

func TestParseWaivers(t *testing.T) {
	ws, err := ParseWaivers(WaiversFile, []byte(waiversYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws.Entries) != 4 {
		t.Fatalf("entries = %d", len(ws.Entries))
	}
	w := ws.Entries[1]
	want := Waiver{Rule: "G404", Scanner: "sast", Path: "internal/legacy/**", Owner: "bob", Reason: "weak random is fine for jitter",
		Expires: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), File: WaiversFile, Line: 6, Col: 5}
	if diff := cmp.Diff(want, w); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := w.Subject(); got != "sast rule G404 in internal/legacy/**" {
		t.Errorf("subject = %q", got)
	}
}

func TestParseWaiversLint(t *testing.T) {
	_, err := ParseWaivers("w.yaml", []byte(`waivers:
  - fingerprint: abc
    reason: r
    expires: 2027-01-01
  - rule: G101
    owner: o
    reason: r
  - owner: o
    reason: r
    expires: 2027-01-01
  - fingerprint: abc
    rule: G101
    owner: o
    reason: r
    expires: 2027-01-01
  - path: "a/**"
    scanner: sats
    owner: o
    reason: r
    expires: someday
  - rule: x
    path: "a/["
    owner: ""
    reason: r
    expires: 2027-01-01
  - just a string
`))
	want := `w.yaml:2:5: waivers[0]: a waiver needs an owner
w.yaml:5:5: waivers[1]: a waiver needs an expiry date (expires: YYYY-MM-DD)
w.yaml:8:5: waivers[2]: a waiver needs a fingerprint, or a rule (with an optional scanner and path)
w.yaml:11:5: waivers[3]: give either a fingerprint or a rule with scanner and path, not both
w.yaml:16:5: waivers[4]: path and scanner narrow a rule: add the rule
w.yaml:17:14: waivers[4].scanner: unknown scanner "sats"; use one of secrets, deps, sast, image (did you mean "sast"?)
w.yaml:20:14: waivers[4].expires must be a date such as 2027-01-31
w.yaml:22:11: waivers[5].path: "a/[" is not a valid glob
w.yaml:23:12: waivers[5]: a waiver needs an owner
w.yaml:26:5: waivers[6] must be a mapping with owner, reason, expires and a fingerprint or a rule, not the value "just a string"`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestApply(t *testing.T) {
	ws, err := ParseWaivers(WaiversFile, []byte(waiversYAML))
	if err != nil {
		t.Fatal(err)
	}
	secret := scan.Finding{Scanner: scan.Secrets, Rule: "generic-api-key", Path: "testdata/key.txt", Line: 3, Fingerprint: "fp-secret"}
	legacy := scan.Finding{Scanner: scan.SAST, Rule: "G404", Path: "internal/legacy/jitter.go", Line: 9, Fingerprint: "fp-1"}
	fresh := scan.Finding{Scanner: scan.SAST, Rule: "G404", Path: "internal/new/rand.go", Line: 4, Fingerprint: "fp-2"}
	vuln := scan.Finding{Scanner: scan.Deps, Rule: "GO-2024-0001", Package: "example.com/lib", Version: "v1.0.0", Fingerprint: "fp-3"}
	findings := []scan.Finding{secret, legacy, fresh, vuln}

	// The date-only expiry lasts to the end of that day (UTC).
	lastDay := time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)
	got := Apply(findings, ws, lastDay)
	if diff := cmp.Diff([]scan.Finding{fresh}, got.Kept); diff != "" {
		t.Errorf("kept on the last day (-want +got):\n%s", diff)
	}
	if len(got.Applied) != 3 || len(got.Expired) != 0 || len(got.Stale) != 1 || got.Stale[0].Owner != "dave" {
		t.Errorf("applied %d expired %d stale %+v", len(got.Applied), len(got.Expired), got.Stale)
	}

	// A day later the vulnerability waiver has expired: its finding is back.
	got = Apply(findings, ws, lastDay.Add(time.Hour))
	if diff := cmp.Diff([]scan.Finding{fresh, vuln}, got.Kept); diff != "" {
		t.Errorf("kept after expiry (-want +got):\n%s", diff)
	}
	if len(got.Expired) != 1 || got.Expired[0].Waiver.Owner != "carol" || len(got.Expired[0].Findings) != 1 {
		t.Errorf("expired = %+v", got.Expired)
	}
	if none := Apply(findings, nil, lastDay); len(none.Kept) != 4 {
		t.Errorf("nil waivers kept %d findings", len(none.Kept))
	}
}
