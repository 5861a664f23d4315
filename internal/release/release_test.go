package release

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/supplychain"
	"github.com/slipway-ci/slipway/internal/trust"
)

func TestPublishIsReproducibleAndVerifies(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "")
	a := f.publish(t, all)
	if a.Kind != "image" || a.Commit == "" || len(a.Tags) != 2 || !strings.HasPrefix(a.Tags[1], "sha-") {
		t.Fatalf("artifact record = %+v", a)
	}
	rep, err := f.s.Verify(ctx, "hello@"+a.Digest, VerifyOptions{Policy: f.policy(), Deep: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("verify refused a fully evidenced artifact: %s", rep.Reasons())
	}
	want := map[string]bool{"exists": true, "blobs": true, trust.Signature: true, trust.Provenance: true, trust.SBOM: true}
	for _, c := range rep.Checks {
		delete(want, c.Name)
	}
	if len(want) != 0 {
		t.Fatalf("checks missing from the report: %v (got %+v)", want, rep.Checks)
	}
	// The same commit published from another state dir (other keys, other
	// registry) is the same image.
	other := newFixture(t, f.src).publish(t, evidence{})
	if other.Digest != a.Digest {
		t.Fatalf("rebuild of the same commit: digest %s, first build %s", other.Digest, a.Digest)
	}
	// Publishing again is a no-op; a different image under the same tags is refused.
	if again := f.publish(t, evidence{}); again.Digest != a.Digest {
		t.Fatalf("second publish: digest %s", again.Digest)
	}
}

func TestVerifyRefuses(t *testing.T) {
	ctx := context.Background()
	otherKeyDir := t.TempDir()
	if _, err := supplychain.GenerateKey(otherKeyDir, "other", []byte("x")); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	tests := []struct {
		name   string
		ev     evidence
		policy func(f *fixture) *trust.Policy
		tamper func(t *testing.T, f *fixture, a *store.Artifact) string // returns the ref to verify
		deep   bool
		check  string
		detail string
	}{
		{name: "unsigned", ev: evidence{sbom: true, attest: true}, check: trust.Signature, detail: "not signed"},
		{name: "wrong key", ev: all, check: trust.Signature, detail: "verify with no trusted key (trusted: other)",
			policy: func(f *fixture) *trust.Policy {
				return f.policy(trust.Key{Name: "other", Public: filepath.Join(otherKeyDir, "other.pub")})
			}},
		{name: "revoked key", ev: all, check: trust.Signature, detail: "revoked",
			policy: func(f *fixture) *trust.Policy {
				return f.policy(signingKey(func(k *trust.Key) { k.Revoked = true }))
			}},
		{name: "expired key", ev: all, check: trust.Signature, detail: "expired",
			policy: func(f *fixture) *trust.Policy {
				return f.policy(signingKey(func(k *trust.Key) { k.NotAfter = past }))
			}},
		{name: "missing provenance", ev: evidence{sbom: true, sign: true}, check: trust.Provenance, detail: "no provenance attestation"},
		{name: "missing sbom", ev: evidence{sign: true, attest: true}, check: trust.SBOM, detail: "no sbom attestation"},
		{name: "provenance for another digest", ev: evidence{sbom: true, sign: true}, check: trust.Provenance, detail: "another digest",
			tamper: provenanceOfAnother},
		{name: "unexpected builder", ev: all, check: trust.Provenance, detail: "expects builder",
			policy: func(f *fixture) *trust.Policy {
				p := f.policy()
				p.Builder = "https://ci.example.com/builder"
				return p
			}},
		{name: "unexpected source", ev: all, check: trust.Provenance, detail: "expects one of",
			policy: func(f *fixture) *trust.Policy {
				p := f.policy()
				p.Sources = []string{"https://example.com/other.git"}
				return p
			}},
		{name: "moved tag", ev: all, check: "tag", detail: "moved", tamper: moveStagingTag},
		{name: "tampered blob", ev: all, deep: true, check: "blobs", detail: "corrupt", tamper: corruptLayer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "")
			a := f.publish(t, tt.ev)
			ref := "hello@" + a.Digest
			if tt.tamper != nil {
				ref = tt.tamper(t, f, a)
			}
			policy := f.policy()
			if tt.policy != nil {
				policy = tt.policy(f)
			}
			rep, err := f.s.Verify(ctx, ref, VerifyOptions{Policy: policy, Deep: tt.deep})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK {
				t.Fatalf("verify accepted it: %+v", rep.Checks)
			}
			if !strings.Contains(rep.Reasons(), tt.check+": ") || !strings.Contains(rep.Reasons(), tt.detail) {
				t.Fatalf("reasons = %q, want check %q saying %q", rep.Reasons(), tt.check, tt.detail)
			}
		})
	}
}

// provenanceOfAnother publishes a second artifact with provenance and
// replays its signed attestation (the legacy .att tag) onto a, as someone
// with push access would: every signature is genuine, the subject is not a.
func provenanceOfAnother(t *testing.T, f *fixture, a *store.Artifact) string {
	t.Helper()
	ctx := context.Background()
	f.commit(t, "app", "#!/bin/sh\necho other\n")
	b := f.publish(t, evidence{attest: true})
	repo, err := f.s.Repository(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	_, client, _ := f.s.Registry(ctx)
	att, err := client.Resolve(ctx, repo.Tag(strings.Replace(b.Digest, ":", "-", 1)+".att"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Promote(ctx, repo.Digest(att.String()), repo.Tag(strings.Replace(a.Digest, ":", "-", 1)+".att")); err != nil {
		t.Fatal(err)
	}
	return "hello@" + a.Digest
}

// moveStagingTag promotes a to staging, then points the tag elsewhere
// behind Slipway's back (with the registry's admin credentials).
func moveStagingTag(t *testing.T, f *fixture, a *store.Artifact) string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.s.Promote(ctx, PromoteRequest{Ref: "hello@" + a.Digest, Env: "staging", Spec: stagedSpec(), Policy: f.policy()}); err != nil {
		t.Fatal(err)
	}
	f.commit(t, "app", "#!/bin/sh\necho impostor\n")
	b := f.publish(t, evidence{})
	repo, err := f.s.Repository(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	_, client, _ := f.s.Registry(ctx)
	if _, err := client.Promote(ctx, repo.Digest(b.Digest), repo.Tag("staging")); err != nil {
		t.Fatal(err)
	}
	return "hello:staging"
}

// corruptLayer rewrites the stored bytes of a's layer in the registry's
// filesystem storage, as a disk fault or an intruder would.
func corruptLayer(t *testing.T, f *fixture, a *store.Artifact) string {
	t.Helper()
	ctx := context.Background()
	d, err := f.s.digestRef(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	_, client, _ := f.s.Registry(ctx)
	img, err := remote.Image(d, client.Options(ctx)...)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("layers: %v %d", err, len(layers))
	}
	ld, _ := layers[0].Digest()
	var found string
	filepath.WalkDir(f.state, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Name() == "data" && filepath.Base(filepath.Dir(p)) == ld.Hex {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("blob %s not found under %s", ld, f.state)
	}
	data, err := os.ReadFile(found)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(found, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// Without --deep the signed manifest still verifies: that is what keeps
	// verification fast; the pull at deploy time re-hashes.
	rep, err := f.s.Verify(ctx, "hello@"+a.Digest, VerifyOptions{Policy: f.policy()})
	if err != nil || !rep.OK {
		t.Fatalf("shallow verify after tampering: %v %v", err, rep.Reasons())
	}
	return "hello@" + a.Digest
}

func TestPromoteFollowsEnvironments(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "")
	a := f.publish(t, all)
	spec := stagedSpec()
	req := func(env string) PromoteRequest {
		return PromoteRequest{Ref: "hello@" + a.Digest, Env: env, Spec: spec, Policy: f.policy(), Actor: "tester"}
	}
	if _, err := f.s.Promote(ctx, req("production")); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "requires staging") {
		t.Fatalf("production before staging: %v", err)
	}
	if _, err := f.s.Promote(ctx, req("qa")); err == nil || !strings.Contains(err.Error(), `no environment "qa"`) {
		t.Fatalf("unknown environment: %v", err)
	}
	byTag := req("staging")
	byTag.Ref = "hello:" + a.Tags[0]
	if _, err := f.s.Promote(ctx, byTag); err == nil || !strings.Contains(err.Error(), "by digest") {
		t.Fatalf("promote by tag: %v", err)
	}
	for _, env := range []string{"staging", "production"} {
		res, err := f.s.Promote(ctx, req(env))
		if err != nil {
			t.Fatalf("promote to %s: %v", env, err)
		}
		if res.Unchanged || res.Promotion.Env != env || res.Promotion.Actor != "tester" {
			t.Fatalf("promotion = %+v", res)
		}
		repo, _ := f.s.Repository(ctx, "hello")
		_, client, _ := f.s.Registry(ctx)
		h, err := client.Resolve(ctx, repo.Tag(env))
		if err != nil || h.String() != a.Digest {
			t.Fatalf("tag %s -> %v %v, want %s", env, h, err, a.Digest)
		}
	}
	res, err := f.s.Promote(ctx, req("production"))
	if err != nil || !res.Unchanged {
		t.Fatalf("promoting the same digest again: %+v %v", res, err)
	}
	cur, err := f.db.Artifacts().Current(ctx, "production", "hello")
	if err != nil || cur.Digest != a.Digest {
		t.Fatalf("current production = %+v %v", cur, err)
	}
	// An artifact without an SBOM may enter staging but not production,
	// whose environment block adds the requirement.
	f.commit(t, "app", "#!/bin/sh\necho two\n")
	b := f.publish(t, evidence{sign: true, attest: true})
	base := &trust.Policy{Set: true, Require: []string{trust.Signature, trust.Provenance}}
	for env, ok := range map[string]bool{"staging": true, "production": false} {
		_, err := f.s.Promote(ctx, PromoteRequest{Ref: "hello@" + b.Digest, Env: env, Spec: spec, Policy: base})
		if ok != (err == nil) {
			t.Fatalf("promote without sbom to %s: err = %v", env, err)
		}
	}
}

// TestRegistryOutlivesFirstCaller: the step whose context first served the
// embedded registry ends; later steps of the run still reach it.
func TestRegistryOutlivesFirstCaller(t *testing.T) {
	f := newFixture(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	if _, _, err := f.s.Registry(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	time.Sleep(50 * time.Millisecond) // the server would stop now if it followed ctx
	a := f.publish(t, evidence{sign: true})
	if err := f.s.Sign(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}
