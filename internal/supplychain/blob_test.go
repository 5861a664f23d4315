package supplychain

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func testStatement(t testing.TB, data []byte) []byte {
	t.Helper()
	st, err := Provenance(ProvenanceInput{
		BuilderID: "https://slipway.dev/builder/local", BuildType: "https://slipway.dev/build/v1",
		Repo: "https://example.com/org/repo", Ref: "refs/heads/main", Commit: strings.Repeat("ab", 20),
		RunID: 7, Subjects: []Subject{{Name: "app", Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(data))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSignAndVerifyBlob(t *testing.T) {
	ctx := context.Background()
	signer, other := newTestSigner(t), newTestSigner(t)
	data := []byte("release artifact\n")
	b, err := SignBlob(ctx, signer, data)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			PublicKey struct{ Hint string } `json:"publicKey"`
		} `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.MediaType != BundleMediaType || doc.VerificationMaterial.PublicKey.Hint != signer.KeyID() {
		t.Fatalf("bundle header %+v", doc)
	}

	tests := []struct {
		name    string
		data    []byte
		keys    []*ecdsa.PublicKey
		wantID  string
		wantErr error
	}{
		{"signer key", data, []*ecdsa.PublicKey{signer.Public()}, signer.KeyID(), nil},
		{"signer among others", data, []*ecdsa.PublicKey{other.Public(), signer.Public()}, signer.KeyID(), nil},
		{"wrong key", data, []*ecdsa.PublicKey{other.Public()}, "", ErrNoTrustedKey},
		{"no keys", data, nil, "", ErrNoTrustedKey},
		{"tampered data", []byte("release artifact!\n"), []*ecdsa.PublicKey{signer.Public()}, "", ErrSubjectMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := VerifyBlob(b, tt.data, tt.keys)
			if !errors.Is(err, tt.wantErr) || id != tt.wantID {
				t.Fatalf("VerifyBlob = %q, %v; want %q, %v", id, err, tt.wantID, tt.wantErr)
			}
		})
	}
}

func TestVerifyBlobRejectsForgedSignature(t *testing.T) {
	// The digest in the bundle matches the data but the signature was made
	// over other bytes: only signature verification can catch it.
	signer := newTestSigner(t)
	data := []byte("payload")
	good, err := SignBlob(context.Background(), signer, data)
	if err != nil {
		t.Fatal(err)
	}
	otherBundle, _ := SignBlob(context.Background(), signer, []byte("other"))
	var g, o map[string]any
	_ = json.Unmarshal(good, &g)
	_ = json.Unmarshal(otherBundle, &o)
	g["messageSignature"].(map[string]any)["signature"] = o["messageSignature"].(map[string]any)["signature"]
	forged, _ := json.Marshal(g)
	if _, err := VerifyBlob(forged, data, []*ecdsa.PublicKey{signer.Public()}); !errors.Is(err, ErrNoTrustedKey) {
		t.Fatalf("forged signature: %v", err)
	}
}

func TestAttestAndVerifyBlob(t *testing.T) {
	ctx := context.Background()
	signer, other := newTestSigner(t), newTestSigner(t)
	data := []byte("binary")
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
	stmt := testStatement(t, data)
	b, err := AttestBlob(ctx, signer, stmt)
	if err != nil {
		t.Fatal(err)
	}
	got, id, err := VerifyBlobAttestation(b, digest, []*ecdsa.PublicKey{other.Public(), signer.Public()})
	if err != nil || id != signer.KeyID() || string(got) != string(stmt) {
		t.Fatalf("VerifyBlobAttestation = %s, %q, %v", got, id, err)
	}
	if _, _, err := VerifyBlobAttestation(b, strings.TrimPrefix(digest, "sha256:"), []*ecdsa.PublicKey{signer.Public()}); err != nil {
		t.Fatalf("bare hex digest: %v", err)
	}
	otherDigest := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("other")))
	if _, _, err := VerifyBlobAttestation(b, otherDigest, []*ecdsa.PublicKey{signer.Public()}); !errors.Is(err, ErrSubjectMismatch) {
		t.Fatalf("other digest: %v", err)
	}
	if _, _, err := VerifyBlobAttestation(b, digest, []*ecdsa.PublicKey{other.Public()}); !errors.Is(err, ErrNoTrustedKey) {
		t.Fatalf("wrong key: %v", err)
	}
	// Swap the payload for another statement, keeping the signature.
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	env := m["dsseEnvelope"].(map[string]any)
	env["payload"] = mustB64(testStatement(t, []byte("other")))
	tampered, _ := json.Marshal(m)
	if _, _, err := VerifyBlobAttestation(tampered, otherDigest, []*ecdsa.PublicKey{signer.Public()}); !errors.Is(err, ErrNoTrustedKey) {
		t.Fatalf("tampered payload: %v", err)
	}
	// A message signature is not an attestation, and vice versa.
	sig, _ := SignBlob(ctx, signer, data)
	if _, _, err := VerifyBlobAttestation(sig, digest, []*ecdsa.PublicKey{signer.Public()}); err == nil {
		t.Fatal("message signature accepted as attestation")
	}
	if _, err := VerifyBlob(b, data, []*ecdsa.PublicKey{signer.Public()}); err == nil {
		t.Fatal("attestation accepted as blob signature")
	}
	if _, err := AttestBlob(ctx, signer, []byte(`{"not":"a statement"}`)); err == nil {
		t.Fatal("AttestBlob accepted a non-statement")
	}
}
