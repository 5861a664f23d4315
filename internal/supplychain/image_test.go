package supplychain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// provenanceFor returns a provenance statement whose subject is ref.
func provenanceFor(t testing.TB, ref name.Digest) []byte {
	t.Helper()
	st, err := Provenance(ProvenanceInput{
		BuilderID: "https://slipway.dev/builder/local", BuildType: "https://slipway.dev/build/v1",
		Repo: "https://example.com/org/repo", Commit: "0123456789abcdef0123456789abcdef01234567",
		RunID: 1, Subjects: []Subject{{Name: ref.Context().Name(), Digest: ref.DigestStr()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func countLayouts[T any](items []T, layout func(T) Layout) map[Layout]int {
	out := map[Layout]int{}
	for _, it := range items {
		out[layout(it)]++
	}
	return out
}

func TestSignAttestVerifyImage(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t)
	ref := pushRandomImage(t, host, "team/app")
	alice, bob, mallory := newTestSigner(t), newTestSigner(t), newTestSigner(t)

	if err := SignImage(ctx, alice, ref); err != nil {
		t.Fatal(err)
	}
	if err := SignImage(ctx, alice, ref); err != nil { // idempotent in the tag layout
		t.Fatal(err)
	}
	if err := SignImage(ctx, bob, ref); err != nil {
		t.Fatal(err)
	}
	if err := AttestImage(ctx, alice, ref, provenanceFor(t, ref)); err != nil {
		t.Fatal(err)
	}

	sigTag, _ := cosignTag(ref, ".sig")
	_, layers, err := readTag(sigTag, nil)
	if err != nil || len(layers) != 2 {
		t.Fatalf(".sig layers = %d, %v; want 2 (alice once, bob appended)", len(layers), err)
	}

	ev, err := VerifyImage(ctx, ref, []*ecdsa.PublicKey{alice.Public()})
	if err != nil {
		t.Fatal(err)
	}
	sigs := countLayouts(ev.Signatures, func(s Sig) Layout { return s.Layout })
	if sigs[LayoutTag] != 1 || sigs[LayoutReferrer] != 2 { // alice signed twice as referrer
		t.Errorf("signatures by layout = %v", sigs)
	}
	for _, s := range ev.Signatures {
		if s.KeyID != alice.KeyID() {
			t.Errorf("signature key %s, want alice", s.KeyID)
		}
	}
	atts := countLayouts(ev.Attestations, func(a Att) Layout { return a.Layout })
	if atts[LayoutTag] != 1 || atts[LayoutReferrer] != 1 {
		t.Errorf("attestations by layout = %v", atts)
	}
	for _, a := range ev.Attestations {
		if a.PredicateType != PredicateSLSAProvenanceV1 || a.KeyID != alice.KeyID() || len(a.Statement) == 0 {
			t.Errorf("attestation %+v", a)
		}
	}
	// bob's entries (one tag layer, one referrer) are reported, not trusted.
	if len(ev.Unverified) != 2 {
		t.Errorf("unverified = %+v, want bob's 2 entries", ev.Unverified)
	}

	ev, err = VerifyImage(ctx, ref, []*ecdsa.PublicKey{mallory.Public()})
	if !errors.Is(err, ErrNoSignature) || ev == nil || len(ev.Unverified) == 0 {
		t.Fatalf("wrong key: %v, evidence %+v", err, ev)
	}
	for _, u := range ev.Unverified {
		if !errors.Is(u.Err, ErrNoTrustedKey) {
			t.Errorf("unverified %s/%s: %v, want ErrNoTrustedKey", u.Layout, u.Source, u.Err)
		}
	}
}

func TestImageSignatureDoesNotTransfer(t *testing.T) {
	// A signature or attestation for image A copied onto image B must not
	// verify for B.
	ctx := context.Background()
	host := startRegistry(t)
	a := pushRandomImage(t, host, "team/a")
	b := pushRandomImage(t, host, "team/b")
	s := newTestSigner(t)

	if err := AttestImage(ctx, s, b, provenanceFor(t, a)); !errors.Is(err, ErrSubjectMismatch) {
		t.Fatalf("attesting B with a statement about A: %v", err)
	}
	if err := SignImage(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	if err := AttestImage(ctx, s, a, provenanceFor(t, a)); err != nil {
		t.Fatal(err)
	}
	copyTag(t, a, b, ".sig")
	copyTag(t, a, b, ".att")
	ev, err := VerifyImage(ctx, b, []*ecdsa.PublicKey{s.Public()})
	if !errors.Is(err, ErrNoSignature) {
		t.Fatalf("copied signatures verified for another image: %v %+v", err, ev)
	}
	if len(ev.Unverified) != 2 || len(ev.Attestations) != 0 {
		t.Fatalf("evidence %+v", ev)
	}
	for _, u := range ev.Unverified {
		if !errors.Is(u.Err, ErrSubjectMismatch) {
			t.Errorf("%s: %v, want ErrSubjectMismatch", u.Source, u.Err)
		}
	}
}

// copyTag copies from's cosign tag to to's cosign tag (same registry).
func copyTag(t testing.TB, from, to name.Digest, suffix string) {
	t.Helper()
	src, _ := cosignTag(from, suffix)
	dst, _ := cosignTag(to, suffix)
	img, err := remote.Image(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, img); err != nil {
		t.Fatal(err)
	}
}

func TestSignImageMissingManifest(t *testing.T) {
	host := startRegistry(t)
	ref := pushRandomImage(t, host, "team/app")
	missing := ref.Context().Digest("sha256:" + "0000000000000000000000000000000000000000000000000000000000000000")
	if err := SignImage(context.Background(), newTestSigner(t), missing); err == nil {
		t.Fatal("signed a manifest that does not exist")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := SignImage(ctx, newTestSigner(t), ref); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}
