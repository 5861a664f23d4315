// Package localapi is the plumbing of `slipway up`'s local API: a loopback
// HTTP server guarded by a bearer token from the state dir, a single-instance
// lock, and the client side (dial, detach, stop). It knows no routes of its
// own beyond /v1/ping and /v1/shutdown; the caller supplies the rest.
//
// Files under <stateDir>/up/ (directory 0700):
//
//	token      64 hex chars, 0600; the bearer token (see Token)
//	lock       empty; flock'ed exclusively by the running server
//	info.json  {"addr","pid","started","version"}, 0600; written after the
//	           listener is bound, removed on clean shutdown
//
// A detached server logs to <stateDir>/logs/up.log (0600, appended).
package localapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrNotRunning means no server holds the state dir's lock.
var ErrNotRunning = errors.New("slipway up is not running")

// ErrNotResponding means a process holds the state dir's lock but its API
// does not answer: it is starting, shutting down, or hung.
var ErrNotResponding = errors.New("slipway up holds the state dir but its API does not answer")

// Info describes a running server; it is the content of info.json and what
// /v1/ping answers.
type Info struct {
	Addr    string    `json:"addr,omitempty"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Version string    `json:"version,omitempty"`
}

// RunningError is returned by Serve when another server already holds the
// state dir. Fields are zero when that server has not published its info yet.
type RunningError struct {
	PID      int
	Addr     string
	Started  time.Time
	StateDir string
}

// Error implements error.
func (e *RunningError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("slipway up is already running for state dir %s (starting up)", e.StateDir)
	}
	return fmt.Sprintf("slipway up is already running for state dir %s: pid %d at %s since %s",
		e.StateDir, e.PID, e.Addr, e.Started.Format(time.RFC3339))
}

func upDir(stateDir string) string     { return filepath.Join(stateDir, "up") }
func tokenPath(stateDir string) string { return filepath.Join(upDir(stateDir), "token") }
func lockPath(stateDir string) string  { return filepath.Join(upDir(stateDir), "lock") }
func infoPath(stateDir string) string  { return filepath.Join(upDir(stateDir), "info.json") }

// LogPath is where a detached server's stdout and stderr go.
func LogPath(stateDir string) string { return filepath.Join(stateDir, "logs", "up.log") }

// ensureUpDir creates <stateDir>/up with 0700 and tightens it when it
// exists with looser permissions (it holds the token).
func ensureUpDir(stateDir string) error {
	dir := upDir(stateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("local api dir: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("local api dir: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("local api dir: %w", err)
		}
	}
	return nil
}

// parseInfo decodes info.json; it rejects content that cannot name a server.
func parseInfo(b []byte) (Info, error) {
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return Info{}, fmt.Errorf("parse info.json: %w", err)
	}
	if info.PID <= 0 || info.Addr == "" {
		return Info{}, errors.New("parse info.json: missing pid or addr")
	}
	return info, nil
}

// readInfo reads info.json; a missing file is os.ErrNotExist (wrapped).
func readInfo(stateDir string) (Info, error) {
	b, err := os.ReadFile(infoPath(stateDir))
	if err != nil {
		return Info{}, err
	}
	return parseInfo(b)
}

// writeFileAtomic writes b to path with mode 0600 through a rename, so
// readers never see a partial file.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
