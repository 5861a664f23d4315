package supplychain

import (
	"context"
	"crypto/ecdsa"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Parsers of untrusted input: key files, bundles, envelopes, statements and
// signature layers read from registries. None may panic; whatever verifies
// must really be signed by the key.

func FuzzSignerFromPEM(f *testing.F) {
	f.Add(readFixture(f, "cosign-v3.1.3.key"), []byte(fixturePassphrase))
	f.Add([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\ne30=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), []byte("x"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, pemBytes, pass []byte) {
		_, _ = SignerFromPEM(pemBytes, pass)
	})
}

func FuzzLoadPublicKey(f *testing.F) {
	f.Add(readFixture(f, "cosign-v3.1.3.pub"))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = LoadPublicKey(b)
	})
}

func FuzzVerifyBundles(f *testing.F) {
	s := newTestSigner(f)
	data := []byte("data")
	sig, _ := SignBlob(context.Background(), s, data)
	att, _ := AttestBlob(context.Background(), s, testStatement(f, data))
	f.Add(sig, data)
	f.Add(att, data)
	f.Add(readFixture(f, "cosign-v3.1.3-blob.bundle.json"), readFixture(f, "blob.txt"))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`), data)
	keys := []*ecdsa.PublicKey{s.Public()}
	digest := "sha256:" + strings.Repeat("0", 64)
	f.Fuzz(func(t *testing.T, bundle, data []byte) {
		if _, err := VerifyBlob(bundle, data, keys); err == nil && string(data) != "data" {
			// The key only ever signed "data": anything else verifying is a forgery.
			t.Fatalf("forged bundle verified for %q: %s", data, bundle)
		}
		_, _, _ = VerifyBlobAttestation(bundle, digest, keys)
	})
}

func FuzzOpenEnvelope(f *testing.F) {
	s := newTestSigner(f)
	env, _ := signEnvelope(s, InTotoPayloadType, testStatement(f, []byte("x")))
	f.Add(env)
	f.Add([]byte(`{"payloadType":"a","payload":"","signatures":[{"sig":""}]}`))
	keys := []*ecdsa.PublicKey{s.Public()}
	h, _ := v1.NewHash("sha256:" + strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _, _ = openEnvelope(b, keys)
		_, _ = verifyEnvelopeLayer(storedLayer{mediaType: DSSEEnvelopeMediaType, content: b}, h, keys)
	})
}

func FuzzSimpleSigningLayer(f *testing.F) {
	s := newTestSigner(f)
	f.Add([]byte(`{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":null}`), "MEUCIQ==")
	keys := []*ecdsa.PublicKey{s.Public()}
	h, _ := v1.NewHash("sha256:" + strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, payload []byte, sig string) {
		l := storedLayer{mediaType: SimpleSigningMediaType, content: payload,
			annotations: map[string]string{cosignSigAnnotation: sig}}
		if _, err := verifySimpleSigning(l, h, keys); err == nil {
			t.Fatal("unsigned payload verified")
		}
	})
}

func FuzzParseStatement(f *testing.F) {
	f.Add(testStatement(f, []byte("x")))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = checkStatement(InTotoPayloadType, b, strings.Repeat("0", 64))
	})
}
