package supplychain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestGenerateAndLoadKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	pass := []byte("correct horse")
	info, err := GenerateKey(dir, "release", pass)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, info.KeyPath: 0o600, info.PubPath: 0o644} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), want)
		}
	}
	raw, _ := os.ReadFile(info.KeyPath)
	if b, _ := pem.Decode(raw); b == nil || b.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" {
		t.Fatalf("private key PEM type: %v", b)
	}
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(info.KeyID) {
		t.Errorf("KeyID %q", info.KeyID)
	}

	s, err := LoadSigner(info.KeyPath, pass)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != info.KeyID {
		t.Errorf("signer key id %s, want %s", s.KeyID(), info.KeyID)
	}
	pubPEM, _ := os.ReadFile(info.PubPath)
	pub, err := LoadPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(s.Public()) {
		t.Error("public key file does not match private key")
	}

	if _, err := LoadSigner(info.KeyPath, []byte("wrong")); !errors.Is(err, ErrBadPassphrase) {
		t.Errorf("wrong passphrase: err %v, want ErrBadPassphrase", err)
	}
	if _, err := GenerateKey(dir, "release", pass); !errors.Is(err, ErrKeyExists) {
		t.Errorf("overwrite: err %v, want ErrKeyExists", err)
	}
	if _, err := GenerateKey(dir, "../escape", pass); err == nil {
		t.Error("key name with a path separator was accepted")
	}
}

func TestSignerFromPEMFormats(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(p256)
	sec1, _ := x509.MarshalECPrivateKey(p256)
	pkcs8p384, _ := x509.MarshalPKCS8PrivateKey(p384)
	enc := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	tests := []struct {
		name    string
		pem     []byte
		wantErr error // nil: success; errAny: any error
	}{
		{"pkcs8", enc("PRIVATE KEY", pkcs8), nil},
		{"sec1", enc("EC PRIVATE KEY", sec1), nil},
		{"p384 refused", enc("PRIVATE KEY", pkcs8p384), ErrUnsupportedKey},
		{"unknown type", enc("RSA PRIVATE KEY", pkcs8), errAny},
		{"not pem", []byte("hello"), errAny},
		{"garbage encrypted", enc("ENCRYPTED SIGSTORE PRIVATE KEY", []byte("{}")), errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := SignerFromPEM(tt.pem, nil)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr == nil && !s.Public().Equal(&p256.PublicKey):
				t.Fatal("wrong key loaded")
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestLoadPublicKeyRejects(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der384, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	tests := map[string][]byte{
		"empty":        nil,
		"wrong type":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der384}),
		"p384":         pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der384}),
		"garbage body": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("x")}),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadPublicKey(in); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestListAndRotateKeys(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("pw")
	if keys, err := ListKeys(filepath.Join(dir, "missing")); err != nil || len(keys) != 0 {
		t.Fatalf("missing dir: %v %v", keys, err)
	}
	first, err := GenerateKey(dir, "default", pass)
	if err != nil {
		t.Fatal(err)
	}
	old, fresh, err := RotateKey(dir, "default", pass)
	if err != nil {
		t.Fatal(err)
	}
	if old.KeyID != first.KeyID || fresh.KeyID == first.KeyID {
		t.Fatalf("rotation ids: old %s fresh %s first %s", old.KeyID, fresh.KeyID, first.KeyID)
	}
	if !regexp.MustCompile(`^default-\d{8}T\d{6}Z$`).MatchString(old.Name) {
		t.Errorf("rotated name %q", old.Name)
	}
	keys, err := ListKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Name != "default" || keys[1].Name != old.Name {
		t.Fatalf("ListKeys = %+v", keys)
	}
	if keys[0].KeyID != fresh.KeyID || keys[1].KeyID != first.KeyID || keys[1].KeyPath == "" {
		t.Fatalf("ListKeys ids/paths = %+v", keys)
	}
	// The rotated private key still loads, so old signatures stay explainable.
	if s, err := LoadSigner(keys[1].KeyPath, pass); err != nil || s.KeyID() != first.KeyID {
		t.Fatalf("rotated key: %v", err)
	}
	if _, _, err := RotateKey(dir, "nope", pass); err == nil {
		t.Error("rotating a missing key succeeded")
	}
}

func TestPassphrase(t *testing.T) {
	state := t.TempDir()
	noEnv := func(string) string { return "" }
	p1, err := Passphrase(state, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(p1) != 43 { // 32 bytes, base64url without padding
		t.Errorf("generated passphrase %q has length %d", p1, len(p1))
	}
	st, err := os.Stat(filepath.Join(state, "keys", "passphrase"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("passphrase file: %v %v", st, err)
	}
	p2, err := Passphrase(state, noEnv)
	if err != nil || string(p2) != string(p1) {
		t.Fatalf("second call: %q %v, want %q", p2, err, p1)
	}
	env := func(k string) string {
		if k == PassphraseEnv {
			return "from-env"
		}
		return ""
	}
	if p, err := Passphrase(state, env); err != nil || string(p) != "from-env" {
		t.Fatalf("env passphrase: %q %v", p, err)
	}
}
