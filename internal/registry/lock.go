package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/slipway-ci/slipway/internal/flock"
)

// Holders of a state dir's registry.
const (
	HolderRegistry = "registry" // standalone `slipway registry`
	HolderRun      = "run"      // `slipway run`, for the length of one run
	HolderUp       = "up"       // `slipway up`, long-running
	HolderGC       = "gc"       // GarbageCollect, for the length of one sweep
)

// Info describes the process that serves a state dir's registry.
type Info struct {
	Addr    string    `json:"addr"`
	Holder  string    `json:"holder"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// HeldError reports that another process (or Server) already serves the
// registry of a state dir.
type HeldError struct {
	Info
	StateDir string
}

// Error implements error.
func (e *HeldError) Error() string {
	return fmt.Sprintf("registry for %s is served by %s (pid %d) at %s", e.StateDir, e.Holder, e.PID, e.Addr)
}

// registryDir is where everything of the embedded registry lives.
func registryDir(stateDir string) string { return filepath.Join(stateDir, "registry") }

func lockPath(stateDir string) string { return filepath.Join(registryDir(stateDir), "lock") }

// fileLock is an exclusive flock on <stateDir>/registry/lock whose content
// is the JSON Info of the holder, so other processes can find the address.
type fileLock struct{ f *os.File }

// tryLock takes the lock without waiting; it returns flock.ErrLocked when held.
func tryLock(stateDir string) (*fileLock, error) {
	if err := os.MkdirAll(registryDir(stateDir), 0o700); err != nil {
		return nil, fmt.Errorf("registry dir: %w", err)
	}
	f, err := flock.TryLock(lockPath(stateDir))
	if err != nil {
		return nil, err
	}
	return &fileLock{f: f}, nil
}

// publish replaces the lock file's content with info.
func (l *fileLock) publish(info Info) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("write registry lock: %w", err)
	}
	if _, err := l.f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("write registry lock: %w", err)
	}
	return nil
}

// release empties the lock file (so it reads as stale) and unlocks it.
func (l *fileLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}

// readInfo parses the lock file content; empty or garbled content gives a
// zero Info (the holder may be between taking the lock and publishing).
func readInfo(stateDir string) Info {
	f, err := os.Open(lockPath(stateDir))
	if err != nil {
		return Info{}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return Info{}
	}
	return parseInfo(b)
}

func parseInfo(b []byte) Info {
	var info Info
	if json.Unmarshal(b, &info) != nil {
		return Info{}
	}
	return info
}

// Running reports who serves stateDir's registry now. It probes the lock,
// so a lock file left behind by a dead holder does not count.
func Running(stateDir string) (Info, bool, error) {
	return running(stateDir, 2*time.Second)
}

// running waits up to settle for a live holder to publish its Info.
func running(stateDir string, settle time.Duration) (Info, bool, error) {
	if _, err := os.Stat(lockPath(stateDir)); errors.Is(err, os.ErrNotExist) {
		return Info{}, false, nil
	}
	deadline := time.Now().Add(settle)
	for {
		l, err := tryLock(stateDir)
		switch {
		case err == nil:
			// Nobody holds it: whatever the file says is stale.
			return Info{}, false, l.release()
		case !errors.Is(err, flock.ErrLocked):
			return Info{}, false, err
		}
		info := readInfo(stateDir)
		if info.PID != 0 || time.Now().After(deadline) {
			return info, true, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}
