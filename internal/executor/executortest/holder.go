package executortest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Holder is a FIFO the job's processes keep open for writing (the script
// runs `exec 3>"$HOLD"` and children inherit fd 3). Reading it returns EOF
// once all of them have exited: proof that every process was killed,
// without polling pids (which a sandbox renumbers) or guessing delays.
type Holder struct {
	path string
	f    *os.File
}

// NewHolder creates the FIFO in dir (which the job must be able to write).
func NewHolder(t testing.TB, dir string) *Holder {
	t.Helper()
	path := filepath.Join(dir, "hold")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	// Non-blocking, so opening does not wait for a writer and reads can
	// have a deadline.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("open FIFO: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return &Holder{path: path, f: f}
}

// Env is the variable naming the FIFO, to add to Job.Env.
func (h *Holder) Env() string { return "HOLD=" + h.path }

// Released waits until no process holds the FIFO. Call it only once the
// script has opened it: before any writer, a FIFO reads as EOF.
func (h *Holder) Released(t testing.TB) {
	t.Helper()
	if err := h.f.SetReadDeadline(time.Now().Add(limit)); err != nil {
		t.Fatalf("FIFO deadline: %v", err)
	}
	buf := make([]byte, 512)
	for {
		_, err := h.f.Read(buf)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("processes of the job still alive %v later: %v", limit, err)
		}
	}
}

// HeldScript prefixes script so every process of the job holds the FIFO.
func HeldScript(script string) string {
	return `exec 3>"$HOLD"` + "\n" + script
}
