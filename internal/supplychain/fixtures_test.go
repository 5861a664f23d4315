package supplychain

import (
	"crypto/ecdsa"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The testdata fixtures were made by the real cosign v3.1.3:
//
//	COSIGN_PASSWORD=slipway-fixture cosign generate-key-pair
//	cosign sign-blob --key cosign-v3.1.3.key --tlog-upload=false \
//	  --use-signing-config=false --yes --bundle cosign-v3.1.3-blob.bundle.json blob.txt
//
// so these tests check cosign compatibility even where cosign is not built.
const fixturePassphrase = "slipway-fixture"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCosignFixtureKey(t *testing.T) {
	s, err := LoadSigner(filepath.Join("testdata", "cosign-v3.1.3.key"), []byte(fixturePassphrase))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(readFixture(t, "cosign-v3.1.3.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(s.Public()) {
		t.Fatal("cosign key pair halves differ")
	}
	if _, err := SignerFromPEM(readFixture(t, "cosign-v3.1.3.key"), []byte("nope")); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
}

func TestCosignFixtureBundle(t *testing.T) {
	pub, err := LoadPublicKey(readFixture(t, "cosign-v3.1.3.pub"))
	if err != nil {
		t.Fatal(err)
	}
	bundle, blob := readFixture(t, "cosign-v3.1.3-blob.bundle.json"), readFixture(t, "blob.txt")
	id, err := VerifyBlob(bundle, blob, []*ecdsa.PublicKey{pub})
	if err != nil || id != KeyID(pub) {
		t.Fatalf("VerifyBlob(cosign bundle) = %q, %v", id, err)
	}
	if _, err := VerifyBlob(bundle, append(blob, '!'), []*ecdsa.PublicKey{pub}); !errors.Is(err, ErrSubjectMismatch) {
		t.Fatalf("tampered blob: %v", err)
	}
	if _, err := VerifyBlob(bundle, blob, []*ecdsa.PublicKey{newTestSigner(t).Public()}); !errors.Is(err, ErrNoTrustedKey) {
		t.Fatalf("wrong key: %v", err)
	}
}
