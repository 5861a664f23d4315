package supplychain

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PassphraseEnv overrides the generated key passphrase.
const PassphraseEnv = "SLIPWAY_KEY_PASSPHRASE"

// Passphrase returns the passphrase protecting signing keys: $SLIPWAY_KEY_PASSPHRASE
// if set, else <stateDir>/keys/passphrase, created on first use with 32
// random bytes (base64url, so it can be typed into COSIGN_PASSWORD).
func Passphrase(stateDir string, getenv func(string) string) ([]byte, error) {
	if v := getenv(PassphraseEnv); v != "" {
		return []byte(v), nil
	}
	dir := filepath.Join(stateDir, "keys")
	path := filepath.Join(dir, "passphrase")
	if b, err := readPassphrase(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate passphrase: %w", err)
	}
	pass := []byte(base64.RawURLEncoding.EncodeToString(raw))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key dir: %w", err)
	}
	err := writeExclusive(path, append(pass, '\n'), 0o600)
	if errors.Is(err, ErrKeyExists) {
		return readPassphrase(path) // another process won the race
	}
	if err != nil {
		return nil, err
	}
	return pass, nil
}

func readPassphrase(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("passphrase file %s is empty", path)
	}
	return b, nil
}
