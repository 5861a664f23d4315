package artifact

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/store/sqlite"
)

func openStore(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "slipway.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var gcNow = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)

func ago(h int) time.Time { return gcNow.Add(-time.Duration(h) * time.Hour) }

// gcFixture records artifacts a (newest) to g (oldest) of repo "hello" with
// their promotions; digests are "sha256:<letter>" unless given.
func gcFixture(t testing.TB, s store.Store, digests map[string]string) {
	t.Helper()
	ctx := context.Background()
	d := func(n string) string {
		if v, ok := digests[n]; ok {
			return v
		}
		return "sha256:" + n
	}
	for n, h := range map[string]int{"a": 1, "b": 10, "c": 50, "d": 100, "e": 300, "f": 800, "g": 1000, "x": 2000} {
		if err := s.Artifacts().Record(ctx, &store.Artifact{Repo: "hello", Digest: d(n), Kind: store.KindArtifact,
			Tags: []string{"sha-" + n}, Created: ago(h)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Artifacts().MarkDeleted(ctx, "hello", d("x"), ago(1500)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		env, name string
		h         int
	}{
		{"production", "f", 900}, // replaced by d before the window
		{"production", "d", 800}, // current
		{"staging", "e", 600},    // replaced within the window
		{"staging", "b", 500},
	} {
		if err := s.Artifacts().Promote(ctx, &store.Promotion{Env: p.env, Repo: "hello", Digest: d(p.name), At: ago(p.h)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPlanGC(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	gcFixture(t, s, nil)
	window := 720 * time.Hour
	tests := []struct {
		policy GCPolicy
		want   string // digest letter: D(elete) or K(eep)
	}{
		{GCPolicy{KeepLast: 2, KeepYounger: 72 * time.Hour}, "a:K b:K c:K d:K e:K f:D g:D"},
		{GCPolicy{KeepLast: 1}, "a:K b:K c:D d:K e:K f:D g:D"},
		{GCPolicy{KeepYounger: 2000 * time.Hour}, "a:K b:K c:K d:K e:K f:K g:K"},
		{GCPolicy{KeepLast: 10}, "a:K b:K c:K d:K e:K f:K g:K"},
	}
	for _, tt := range tests {
		items, err := PlanGC(ctx, s.Artifacts(), "hello", tt.policy, gcNow, window)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			mark := "K"
			if it.Delete {
				mark = "D"
			}
			if it.Delete != strings.HasPrefix(it.Reason, "delete:") {
				t.Errorf("%s: Delete %v with reason %q", it.Artifact.Digest, it.Delete, it.Reason)
			}
			got = append(got, strings.TrimPrefix(it.Artifact.Digest, "sha256:")+":"+mark)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("PlanGC(%+v) = %v, want %v", tt.policy, got, tt.want)
		}
	}
	items, _ := PlanGC(ctx, s.Artifacts(), "hello", GCPolicy{KeepLast: 2, KeepYounger: 72 * time.Hour}, gcNow, window)
	reasons := map[string]string{}
	for _, it := range items {
		reasons[it.Artifact.Digest] = it.Reason
	}
	for d, want := range map[string]string{
		"sha256:a": "kept: newest 2",
		"sha256:c": "kept: younger than 72h0m0s",
		"sha256:d": "kept: in production within retention window",
		"sha256:e": "kept: in staging within retention window",
		"sha256:f": "delete: older than 72h0m0s and not in the newest 2",
	} {
		if reasons[d] != want {
			t.Errorf("reason for %s = %q, want %q", d, reasons[d], want)
		}
	}
	if _, err := PlanGC(ctx, s.Artifacts(), "hello", GCPolicy{}, gcNow, window); err == nil {
		t.Error("a policy that keeps nothing was accepted")
	}
}

func TestApplyGC(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	c, _ := testClient(t)
	repo := repoRef(t, host, "hello")
	digests := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "x"} {
		d, err := c.Push(ctx, repo, testArtifact(t, n, created), []string{"sha-" + n})
		if err != nil {
			t.Fatal(err)
		}
		digests[n] = d.String()
	}
	// f carries a signature tagged after it, as cosign does.
	sig := "sha256-" + strings.TrimPrefix(digests["f"], "sha256:") + ".sig"
	if _, err := c.Push(ctx, repo, testArtifact(t, "signature of f", created), []string{sig}); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	gcFixture(t, s, digests)
	items, err := PlanGC(ctx, s.Artifacts(), "hello", GCPolicy{KeepLast: 2, KeepYounger: 72 * time.Hour}, gcNow, 720*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	if err := ApplyGC(ctx, c, s.Artifacts(), host, items, logf); err != nil {
		t.Fatal(err)
	}
	for n, gone := range map[string]bool{"a": false, "b": false, "c": false, "d": false, "e": false, "f": true, "g": true} {
		_, err := c.Resolve(ctx, repo.Digest(digests[n]))
		if gone != isNotFound(err) {
			t.Errorf("%s: Resolve = %v, want gone=%v", n, err, gone)
		}
		if _, err := c.Resolve(ctx, repo.Tag("sha-"+n)); gone != isNotFound(err) {
			t.Errorf("tag sha-%s: Resolve = %v, want gone=%v", n, err, gone)
		}
		a, err := s.Artifacts().Get(ctx, "hello", digests[n])
		if err != nil || (a.Deleted != nil) != gone {
			t.Errorf("%s: recorded %+v, %v; want deleted=%v", n, a, err, gone)
		}
	}
	if _, err := c.Resolve(ctx, repo.Tag(sig)); !isNotFound(err) {
		t.Errorf("signature of a deleted artifact remains: %v", err)
	}
	if len(logged) != 3 || !strings.Contains(strings.Join(logged, "\n"), sig) {
		t.Errorf("logged %q: want the signature and two artifacts", logged)
	}
	// Applying the same plan again finds nothing left to delete and succeeds.
	if err := ApplyGC(ctx, c, s.Artifacts(), host, items, logf); err != nil {
		t.Errorf("second ApplyGC: %v", err)
	}
}
