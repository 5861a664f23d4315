package deploy

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/slipway-ci/slipway/internal/target"
)

// tailChunk bounds what one read of a log takes: the start of a long tail
// or one poll of a fast writer.
const tailChunk = 4 << 20

// tailer reads a replica's log file: its last lines, then what follows.
// A line is sent once complete; a file that shrank was replaced and is
// read again from its start.
type tailer struct {
	target.ReplicaLog
	offset  int64
	partial []byte // an incomplete last line, kept for the next read
}

// tail returns the last n complete lines and moves to the end of the file.
func (t *tailer) tail(n int) ([]string, error) {
	size, err := t.size()
	if err != nil {
		return nil, err
	}
	start := max(size-tailChunk, 0)
	b, err := t.read(start, size)
	if err != nil {
		return nil, err
	}
	if start > 0 { // the chunk began mid-line
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	t.offset = size
	lines := t.split(b)
	if n < len(lines) {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}

// more returns the complete lines written since the last read.
func (t *tailer) more() ([]string, error) {
	size, err := t.size()
	if err != nil {
		return nil, err
	}
	if size < t.offset {
		t.offset, t.partial = 0, nil
	}
	end := min(size, t.offset+tailChunk)
	b, err := t.read(t.offset, end)
	if err != nil {
		return nil, err
	}
	t.offset = end
	return t.split(append(t.partial, b...)), nil
}

// split cuts b into complete lines and keeps the rest as partial.
func (t *tailer) split(b []byte) []string {
	i := bytes.LastIndexByte(b, '\n')
	t.partial = append([]byte(nil), b[i+1:]...)
	if i < 0 {
		return nil
	}
	return strings.Split(string(b[:i]), "\n")
}

// size is the file's length; a replica that wrote nothing yet may have none.
func (t *tailer) size() (int64, error) {
	fi, err := os.Stat(t.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (t *tailer) read(start, end int64) ([]byte, error) {
	if end <= start {
		return nil, nil
	}
	f, err := os.Open(t.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, end-start)
	n, err := f.ReadAt(b, start)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:n], nil
}
