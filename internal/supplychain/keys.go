package supplychain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// PEM block types of cosign's key files.
const (
	encryptedSigstoreKeyPEM = string(cryptoutils.EncryptedSigstorePrivateKeyPEMType)
	encryptedCosignKeyPEM   = "ENCRYPTED COSIGN PRIVATE KEY" // cosign < 2.0
	publicKeyPEM            = string(cryptoutils.PublicKeyPEMType)
)

// rotatedTimeFormat names rotated keys: name-<created>.key.
const rotatedTimeFormat = "20060102T150405Z"

// KeyInfo describes a key pair on disk. KeyPath is empty when only the
// public half is kept (a rotated key kept for verification).
type KeyInfo struct {
	Name    string
	KeyPath string
	PubPath string
	KeyID   string
	Created time.Time
}

// Signer holds a decrypted ECDSA P-256 private key.
type Signer struct {
	priv  *ecdsa.PrivateKey
	keyID string
}

// Public returns the signer's public key.
func (s *Signer) Public() *ecdsa.PublicKey { return &s.priv.PublicKey }

// KeyID returns the signer's key id (see KeyID).
func (s *Signer) KeyID() string { return s.keyID }

// PublicKeyPEM returns the signer's public key as a PKIX "PUBLIC KEY" PEM.
func (s *Signer) PublicKeyPEM() ([]byte, error) {
	return cryptoutils.MarshalPublicKeyToPEM(s.Public())
}

// signDigest signs the SHA-256 digest of data (ASN.1 DER signature), as
// cosign does for every payload.
func (s *Signer) sign(data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	return ecdsa.SignASN1(rand.Reader, s.priv, sum[:])
}

func newSigner(priv *ecdsa.PrivateKey) (*Signer, error) {
	if priv.Curve != elliptic.P256() {
		return nil, ErrUnsupportedKey
	}
	return &Signer{priv: priv, keyID: KeyID(&priv.PublicKey)}, nil
}

// KeyID names a public key: "sha256:" + hex of the SHA-256 of its PKIX DER.
func KeyID(pub *ecdsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// GenerateKey creates <dir>/<name>.key (encrypted with pass, 0600) and
// <dir>/<name>.pub (0644) in cosign's formats. It never overwrites a key.
func GenerateKey(dir, name string, pass []byte) (*KeyInfo, error) {
	if err := validKeyName(name); err != nil {
		return nil, err
	}
	keyPath, pubPath := keyPaths(dir, name)
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("%s: %w", p, ErrKeyExists)
		}
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	privPEM, pubPEM, err := encodeKeyPair(priv, pass)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key dir: %w", err)
	}
	if err := writeExclusive(keyPath, privPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeExclusive(pubPath, pubPEM, 0o644); err != nil {
		_ = os.Remove(keyPath)
		return nil, err
	}
	return &KeyInfo{Name: name, KeyPath: keyPath, PubPath: pubPath,
		KeyID: KeyID(&priv.PublicKey), Created: time.Now().UTC()}, nil
}

// encodeKeyPair encodes priv as cosign does: PKCS#8 DER sealed with
// go-securesystemslib's encrypted.Encrypt (scrypt + secretbox).
func encodeKeyPair(priv *ecdsa.PrivateKey, pass []byte) (privPEM, pubPEM []byte, err error) {
	der, err := cryptoutils.MarshalPrivateKeyToEncryptedDER(priv, func(bool) ([]byte, error) {
		return append([]byte{}, pass...), nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("encrypt private key: %w", err)
	}
	pubPEM, err = cryptoutils.MarshalPublicKeyToPEM(&priv.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: encryptedSigstoreKeyPEM, Bytes: der}), pubPEM, nil
}

// LoadSigner reads and decrypts a private key file.
func LoadSigner(keyPath string, pass []byte) (*Signer, error) {
	b, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	s, err := SignerFromPEM(b, pass)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	return s, nil
}

// SignerFromPEM decodes a private key PEM: cosign's encrypted formats, or an
// unencrypted PKCS#8 / SEC 1 key (pass ignored).
func SignerFromPEM(pemBytes, pass []byte) (*Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("private key: no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case encryptedSigstoreKeyPEM, encryptedCosignKeyPEM:
		der, derr := encrypted.Decrypt(block.Bytes, pass)
		if derr != nil {
			// secretbox.Open failing is the only way a wrong passphrase shows;
			// anything else is a malformed envelope.
			if strings.Contains(derr.Error(), "decryption failed") {
				return nil, ErrBadPassphrase
			}
			return nil, fmt.Errorf("decrypt private key: %w", derr)
		}
		key, err = x509.ParsePKCS8PrivateKey(der)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("private key: unknown PEM type %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T: %w", key, ErrUnsupportedKey)
	}
	return newSigner(priv)
}

// LoadPublicKey decodes a PKIX "PUBLIC KEY" PEM holding an ECDSA P-256 key.
func LoadPublicKey(pemBytes []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("public key: no PEM block found")
	}
	if block.Type != publicKeyPEM {
		return nil, fmt.Errorf("public key: unexpected PEM type %q", block.Type)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("public key is %T: %w", key, ErrUnsupportedKey)
	}
	return pub, nil
}

// ListKeys lists the key pairs in dir, one per .pub file, sorted by name.
func ListKeys(dir string) ([]KeyInfo, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	var out []KeyInfo
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".pub")
		if !ok || e.IsDir() {
			continue
		}
		info, err := readKeyInfo(dir, name)
		if err != nil {
			return nil, err
		}
		out = append(out, *info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readKeyInfo(dir, name string) (*KeyInfo, error) {
	keyPath, pubPath := keyPaths(dir, name)
	b, err := os.ReadFile(pubPath)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	pub, err := LoadPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pubPath, err)
	}
	st, err := os.Stat(pubPath)
	if err != nil {
		return nil, fmt.Errorf("stat public key: %w", err)
	}
	info := &KeyInfo{Name: name, PubPath: pubPath, KeyID: KeyID(pub), Created: st.ModTime().UTC()}
	if _, err := os.Stat(keyPath); err == nil {
		info.KeyPath = keyPath
	}
	return info, nil
}

// RotateKey renames name.key/.pub to name-<created>.key/.pub, keeping the old
// public key for verifying what it signed, and generates a fresh key pair.
func RotateKey(dir, name string, pass []byte) (old, fresh *KeyInfo, err error) {
	if err := validKeyName(name); err != nil {
		return nil, nil, err
	}
	old, err = readKeyInfo(dir, name)
	if err != nil {
		return nil, nil, fmt.Errorf("rotate %s: %w", name, err)
	}
	oldName := name + "-" + old.Created.Format(rotatedTimeFormat)
	newKey, newPub := keyPaths(dir, oldName)
	for _, p := range []string{newKey, newPub} {
		if _, err := os.Lstat(p); err == nil {
			return nil, nil, fmt.Errorf("rotate %s: %s: %w", name, p, ErrKeyExists)
		}
	}
	if old.KeyPath != "" {
		if err := os.Rename(old.KeyPath, newKey); err != nil {
			return nil, nil, fmt.Errorf("rotate %s: %w", name, err)
		}
		old.KeyPath = newKey
	}
	if err := os.Rename(old.PubPath, newPub); err != nil {
		return nil, nil, fmt.Errorf("rotate %s: %w", name, err)
	}
	old.Name, old.PubPath = oldName, newPub
	fresh, err = GenerateKey(dir, name, pass)
	if err != nil {
		return old, nil, fmt.Errorf("rotate %s: %w", name, err)
	}
	return old, fresh, nil
}

func keyPaths(dir, name string) (keyPath, pubPath string) {
	return filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
}

func validKeyName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("invalid key name %q", name)
	}
	return nil
}

// writeExclusive creates path with perm, failing if it exists.
func writeExclusive(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w", path, ErrKeyExists)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
