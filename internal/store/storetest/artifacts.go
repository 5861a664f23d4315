package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
)

func runArtifacts(t *testing.T, open Open) {
	t.Run("ArtifactRecord", func(t *testing.T) { testArtifactRecord(t, open(t)) })
	t.Run("ArtifactList", func(t *testing.T) { testArtifactList(t, open(t)) })
	t.Run("Promotions", func(t *testing.T) { testPromotions(t, open(t)) })
	t.Run("WasInEnv", func(t *testing.T) { testWasInEnv(t, open(t)) })
}

func record(t testing.TB, s store.Store, a *store.Artifact) *store.Artifact {
	t.Helper()
	if err := s.Artifacts().Record(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func testArtifactRecord(t *testing.T, s store.Store) {
	ctx := context.Background()
	arts := s.Artifacts()
	a := record(t, s, &store.Artifact{Repo: "team/hello", Digest: "sha256:a", Kind: store.KindImage,
		Tags: []string{"v1.0.0", "latest"}, Version: "v1.0.0", Commit: "c1", RunID: 7, Size: 100, Created: t0})
	if a.ID == 0 {
		t.Fatal("Record did not set the ID")
	}
	// Recording again merges tags and keeps the first creation time.
	again := record(t, s, &store.Artifact{Repo: "team/hello", Digest: "sha256:a", Tags: []string{"sha-c1"}, Created: t0.Add(time.Hour)})
	if again.ID != a.ID {
		t.Errorf("upsert gave id %d, want %d", again.ID, a.ID)
	}
	got, err := arts.Get(ctx, "team/hello", "sha256:a")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Tags) != "[latest sha-c1 v1.0.0]" || got.Kind != store.KindImage || got.Version != "v1.0.0" ||
		got.Commit != "c1" || got.RunID != 7 || got.Size != 100 || !got.Created.Equal(t0) || got.Deleted != nil {
		t.Errorf("Get = %+v", got)
	}
	// A mutable tag that moves leaves the artifact it named.
	record(t, s, &store.Artifact{Repo: "team/hello", Digest: "sha256:b", Tags: []string{"latest"}, Created: t0.Add(time.Minute)})
	if got, _ := arts.Get(ctx, "team/hello", "sha256:a"); fmt.Sprint(got.Tags) != "[sha-c1 v1.0.0]" {
		t.Errorf("tags after latest moved = %v", got.Tags)
	}
	// The same tag in another repository is another tag.
	record(t, s, &store.Artifact{Repo: "other", Digest: "sha256:a", Tags: []string{"v1.0.0"}, Created: t0})
	if got, _ := arts.Get(ctx, "team/hello", "sha256:a"); fmt.Sprint(got.Tags) != "[sha-c1 v1.0.0]" {
		t.Errorf("tags after recording in another repo = %v", got.Tags)
	}
	if _, err := arts.Get(ctx, "team/hello", "sha256:zzz"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	del := t0.Add(48 * time.Hour)
	if err := arts.MarkDeleted(ctx, "team/hello", "sha256:a", del); err != nil {
		t.Fatal(err)
	}
	if got, _ := arts.Get(ctx, "team/hello", "sha256:a"); got.Deleted == nil || !got.Deleted.Equal(del) {
		t.Errorf("Deleted = %v, want %v", got.Deleted, del)
	}
	if err := arts.MarkDeleted(ctx, "team/hello", "sha256:zzz", del); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkDeleted(missing) = %v, want ErrNotFound", err)
	}
	// Pushed again after retention removed it: alive again.
	record(t, s, &store.Artifact{Repo: "team/hello", Digest: "sha256:a", Created: del})
	if got, _ := arts.Get(ctx, "team/hello", "sha256:a"); got.Deleted != nil {
		t.Errorf("re-recorded artifact still deleted: %v", got.Deleted)
	}
}

func testArtifactList(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, d := range []string{"a", "b", "c"} {
		record(t, s, &store.Artifact{Repo: "hello", Digest: "sha256:" + d, Created: t0.Add(time.Duration(i) * time.Hour)})
	}
	record(t, s, &store.Artifact{Repo: "other", Digest: "sha256:x", RunID: 7, Created: t0.Add(10 * time.Hour)})
	if err := s.Artifacts().MarkDeleted(ctx, "hello", "sha256:b", t0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    store.ArtifactFilter
		want string
	}{
		{store.ArtifactFilter{}, "[other@sha256:x hello@sha256:c hello@sha256:a]"},
		{store.ArtifactFilter{Repo: "hello"}, "[hello@sha256:c hello@sha256:a]"},
		{store.ArtifactFilter{Repo: "hello", IncludeDeleted: true}, "[hello@sha256:c hello@sha256:b hello@sha256:a]"},
		{store.ArtifactFilter{Repo: "hello", Limit: 1}, "[hello@sha256:c]"},
		{store.ArtifactFilter{Repo: "nope"}, "[]"},
		{store.ArtifactFilter{RunID: 7}, "[other@sha256:x]"},
		{store.ArtifactFilter{RunID: 8}, "[]"},
	}
	for _, tt := range tests {
		list, err := s.Artifacts().List(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range list {
			got = append(got, a.Repo+"@"+a.Digest)
		}
		if fmt.Sprint(got) != tt.want {
			t.Errorf("List(%+v) = %v, want %v", tt.f, got, tt.want)
		}
	}
}

func promote(t testing.TB, s store.Store, env, repo, digest string, at time.Time) *store.Promotion {
	t.Helper()
	p := &store.Promotion{Env: env, Repo: repo, Digest: digest, Actor: "alice", Reason: "release", At: at}
	if err := s.Artifacts().Promote(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func testPromotions(t *testing.T, s store.Store) {
	ctx := context.Background()
	arts := s.Artifacts()
	if _, err := arts.Current(ctx, "production", "hello"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Current(none) = %v, want ErrNotFound", err)
	}
	p1 := promote(t, s, "production", "hello", "sha256:a", t0)
	p2 := promote(t, s, "production", "hello", "sha256:b", t0.Add(time.Hour))
	promote(t, s, "staging", "hello", "sha256:c", t0.Add(2*time.Hour))
	promote(t, s, "production", "other", "sha256:x", t0.Add(3*time.Hour))
	if p1.ID == 0 || p2.ID <= p1.ID || p1.Previous != "" || p2.Previous != "sha256:a" {
		t.Errorf("promotions %+v, %+v: want increasing ids and Previous '' then sha256:a", p1, p2)
	}
	cur, err := arts.Current(ctx, "production", "hello")
	if err != nil || cur.Digest != "sha256:b" || cur.Previous != "sha256:a" || cur.Actor != "alice" ||
		cur.Reason != "release" || !cur.At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Current = %+v, %v", cur, err)
	}
	// A rollback is a promotion of the previous digest.
	promote(t, s, "production", "hello", cur.Previous, t0.Add(4*time.Hour))
	hist, err := arts.History(ctx, "production", "hello", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range hist {
		got = append(got, p.Digest+"<"+p.Previous)
	}
	if want := "[sha256:a<sha256:b sha256:b<sha256:a sha256:a<]"; fmt.Sprint(got) != want {
		t.Errorf("History = %v, want %v", got, want)
	}
	if hist, _ := arts.History(ctx, "production", "hello", 1); len(hist) != 1 {
		t.Errorf("History(limit 1) = %d promotions", len(hist))
	}
}

func testWasInEnv(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	promote(t, s, "production", "hello", "sha256:old", h(0))  // replaced at h(10)
	promote(t, s, "production", "hello", "sha256:mid", h(10)) // replaced at h(20)
	promote(t, s, "production", "hello", "sha256:cur", h(20)) // current
	promote(t, s, "staging", "hello", "sha256:mid", h(5))     // replaced at h(6)
	promote(t, s, "staging", "hello", "sha256:stg", h(6))     // current
	promote(t, s, "production", "other", "sha256:old", h(30)) // another repository
	tests := []struct {
		digest string
		since  time.Time
		want   string
	}{
		{"sha256:cur", h(100), "[production]"},       // current now
		{"sha256:mid", h(15), "[production]"},        // current at since, replaced after
		{"sha256:mid", h(10), "[production]"},        // promoted at since
		{"sha256:mid", h(5), "[production staging]"}, // both within the window
		{"sha256:mid", h(21), "[]"},                  // replaced before the window
		{"sha256:old", h(9), "[production]"},
		{"sha256:old", h(11), "[]"},
		{"sha256:never", h(0), "[]"},
	}
	for _, tt := range tests {
		envs, err := s.Artifacts().WasInEnv(ctx, "hello", tt.digest, tt.since)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(envs) != tt.want {
			t.Errorf("WasInEnv(%s, since %v) = %v, want %v", tt.digest, tt.since.Sub(t0), envs, tt.want)
		}
	}
}
