package registry

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// AdminUser is the basic-auth user name that goes with Creds.Admin.
const AdminUser = "slipway-admin"

// Creds are the registry's write credentials. Username/Password may push;
// Admin (as basic auth AdminUser:Admin or a Bearer token) may also move
// protected environment tags and delete outside the scratch namespace.
type Creds struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Admin    string `json:"admin"`
}

func credsPath(stateDir string) string {
	return filepath.Join(registryDir(stateDir), "credentials.json")
}

// Credentials returns the state dir's registry credentials, generating and
// storing them (0600) on first use. Concurrent first uses agree on one set.
func Credentials(stateDir string) (Creds, error) {
	path := credsPath(stateDir)
	if c, err := readCreds(path); !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Creds{}, fmt.Errorf("registry dir: %w", err)
	}
	c := Creds{Username: "slipway", Password: randomToken(), Admin: randomToken()}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return Creds{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return Creds{}, fmt.Errorf("write credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return Creds{}, fmt.Errorf("write credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Creds{}, fmt.Errorf("write credentials: %w", err)
	}
	// Link, unlike rename, fails when another process won the race; then
	// its credentials are the ones.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return Creds{}, fmt.Errorf("write credentials: %w", err)
	}
	return readCreds(path)
}

func readCreds(path string) (Creds, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Creds{}, fmt.Errorf("read credentials: %w", err)
	}
	var c Creds
	if err := json.Unmarshal(b, &c); err != nil {
		return Creds{}, fmt.Errorf("read credentials %s: %w", path, err)
	}
	if c.Username == "" || c.Password == "" || c.Admin == "" {
		return Creds{}, fmt.Errorf("read credentials %s: incomplete", path)
	}
	return c, nil
}

// randomToken returns 256 random bits in hex.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
