package localapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// ErrInsecureToken means the token file is readable by others, not owned by
// this user, or not a regular file. Token refuses it rather than fixing the
// permissions: a token that could be read may already have leaked, and only
// a new one helps. Remove the file and restart `slipway up`.
var ErrInsecureToken = errors.New("local api token file is not private")

const tokenBytes = 32

// Token returns the local API's bearer token, creating <stateDir>/up/token
// (32 random bytes, hex, mode 0600, directory 0700) when it does not exist.
// Creation is atomic (a hard link of a complete temp file), so racing
// processes all end up with the first one's token.
func Token(stateDir string) (string, error) {
	tok, err := readToken(stateDir)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, err
	}
	if err := ensureUpDir(stateDir); err != nil {
		return "", err
	}
	if err := createToken(stateDir); err != nil {
		return "", err
	}
	return readToken(stateDir)
}

// createToken links a fully written temp file into place; losing the race
// (EEXIST) is fine, the winner's token is then read.
func createToken(stateDir string) error {
	buf := make([]byte, tokenBytes)
	if _, err := rand.Read(buf); err != nil {
		return fmt.Errorf("generate token: %w", err)
	}
	f, err := os.CreateTemp(upDir(stateDir), "token.tmp-*") // 0600
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.WriteString(hex.EncodeToString(buf))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write token: %w", err)
	}
	if err := os.Link(tmp, tokenPath(stateDir)); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// readToken reads an existing token without creating one; a missing file is
// fs.ErrNotExist (wrapped).
func readToken(stateDir string) (string, error) {
	path := tokenPath(stateDir)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return "", fmt.Errorf("%w: %s is a symlink", ErrInsecureToken, path)
		}
		return "", fmt.Errorf("read token: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	if err := checkPrivate(path, fi); err != nil {
		return "", err
	}
	b := make([]byte, 2*tokenBytes+2)
	n, _ := f.Read(b)
	return parseToken(string(b[:n]))
}

func checkPrivate(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrInsecureToken, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o (want 0600); remove it and restart slipway up", ErrInsecureToken, path, perm)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s is owned by uid %d, not %d", ErrInsecureToken, path, st.Uid, os.Geteuid())
	}
	return nil
}

// parseToken accepts exactly 64 lowercase or uppercase hex digits, with an
// optional trailing newline (someone may have edited the file).
func parseToken(s string) (string, error) {
	s = strings.TrimSuffix(s, "\n")
	if len(s) != 2*tokenBytes {
		return "", errors.New("read token: malformed token file")
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", errors.New("read token: malformed token file")
	}
	return s, nil
}
