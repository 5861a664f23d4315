package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// The process journal records each started process of a run (its
// executor's reference) with one append, before the step can finish. A
// slipway that dies leaves it behind, and its successor reaps what it
// names. It replaces a database write per step start: an append costs
// microseconds, a transaction a hundred times more.
type journal struct {
	mu   sync.Mutex
	path string
	f    *os.File // opened at the first entry
}

// JournalEntry is one started process.
type JournalEntry struct {
	Step     string `json:"step"`
	Attempt  int    `json:"attempt"`
	Executor string `json:"executor"`
	Ref      string `json:"ref"`
}

// JournalPath is where a run's process journal lives.
func JournalPath(stateDir string, runID int64) string {
	return filepath.Join(stateDir, "runs", fmt.Sprintf("%d.procs", runID))
}

func newJournal(path string) *journal { return &journal{path: path} }

// add appends one entry in a single write, so a crash never leaves half a
// line behind another one.
func (j *journal) add(e JournalEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		if err := os.MkdirAll(filepath.Dir(j.path), 0o700); err != nil {
			return fmt.Errorf("process journal: %w", err)
		}
		if j.f, err = os.OpenFile(j.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
			return fmt.Errorf("process journal: %w", err)
		}
	}
	_, err = j.f.Write(append(line, '\n'))
	return err
}

// close ends the journal; remove deletes it once the run's outcome is in
// the store.
func (j *journal) close(remove bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return
	}
	j.f.Close()
	if remove {
		os.Remove(j.path) //nolint:errcheck // a stale journal only costs a no-op reap
	}
}

// ReadJournal returns a journal's entries; a missing journal has none, and
// a torn last line (a crash mid-write) is ignored.
func ReadJournal(path string) ([]JournalEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []JournalEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e JournalEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}
