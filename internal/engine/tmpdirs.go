package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// tmpDirs hands each attempt a private, empty TMPDIR. Directories are
// emptied and reused within a run rather than created per step: creating a
// directory costs far more than a no-op step on some file systems.
type tmpDirs struct {
	root string
	mu   sync.Mutex
	free []string
	made int
}

func newTmpDirs(stateDir string, runID int64) (*tmpDirs, error) {
	// Under the state dir: on slipway's own file system (not a slow or small
	// /tmp), swept by prune after a crash, and still writable inside the
	// sandbox, which hides the rest of the state dir.
	base := filepath.Join(stateDir, "tmp")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	root, err := os.MkdirTemp(base, fmt.Sprintf("run-%d-", runID))
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	return &tmpDirs{root: root}, nil
}

// get returns an empty directory for one attempt.
func (t *tmpDirs) get() (string, error) {
	t.mu.Lock()
	if n := len(t.free); n > 0 {
		d := t.free[n-1]
		t.free = t.free[:n-1]
		t.mu.Unlock()
		return d, nil
	}
	t.made++
	d := filepath.Join(t.root, fmt.Sprint(t.made))
	t.mu.Unlock()
	if err := os.Mkdir(d, 0o700); err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	return d, nil
}

// put empties a directory and keeps it for the next attempt; one that
// cannot be emptied is dropped.
func (t *tmpDirs) put(d string) {
	entries, err := os.ReadDir(d)
	if err != nil {
		return
	}
	for _, e := range entries {
		if os.RemoveAll(filepath.Join(d, e.Name())) != nil {
			return
		}
	}
	if err := os.Chmod(d, 0o700); err != nil {
		return
	}
	t.mu.Lock()
	t.free = append(t.free, d)
	t.mu.Unlock()
}

// close removes everything.
func (t *tmpDirs) close() {
	os.RemoveAll(t.root) //nolint:errcheck // a leftover temp dir is harmless; prune sweeps it
}
