package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/slipway-ci/slipway/internal/secrets"
)

// logSink is where one attempt's output goes: through the secret masker,
// then to the log file and, line by line, to the observer. It streams: only
// a partial line and the masker's look-behind are ever held. The file is
// created on the first byte, so a silent step costs no file.
type logSink struct {
	file   lazyFile
	buf    *bufio.Writer
	masked *secrets.Writer
	lines  *lineSplitter
	size   countWriter
}

// logPath is where a step attempt's log lives, relative to the state dir.
func logPath(runID int64, step string, attempt int) string {
	return filepath.Join("logs", fmt.Sprint(runID), fmt.Sprintf("%s.%d.log", url.PathEscape(step), attempt))
}

// LineObserver is implemented by observers that can say they do not want
// log lines (a quiet terminal), which spares splitting output into lines.
type LineObserver interface{ WantsLines() bool }

func openLog(path string, m *secrets.Masker, obs Observer, step string) (*logSink, error) {
	l := &logSink{file: lazyFile{path: path}}
	l.buf = bufPool.Get().(*bufio.Writer)
	l.buf.Reset(io.MultiWriter(&l.file, &l.size))
	var out io.Writer = l.buf
	if wantsLines(obs) {
		l.lines = &lineSplitter{step: step, obs: obs}
		out = io.MultiWriter(l.buf, l.lines)
	}
	l.masked = m.NewWriter(out)
	return l, nil
}

func wantsLines(obs Observer) bool {
	if _, discard := obs.(Discard); discard {
		return false
	}
	if lo, ok := obs.(LineObserver); ok {
		return lo.WantsLines()
	}
	return true
}

// Write takes raw step output.
func (l *logSink) Write(p []byte) (int, error) { return l.masked.Write(p) }

// Close flushes everything and reports the log's size.
func (l *logSink) Close() (int64, error) {
	err := l.masked.Flush()
	if l.lines != nil {
		l.lines.flush()
	}
	if ferr := l.buf.Flush(); err == nil {
		err = ferr
	}
	l.buf.Reset(nil)
	bufPool.Put(l.buf)
	l.buf = nil
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	return int64(l.size), err
}

// bufPool recycles log buffers: a run of many short steps would otherwise
// allocate one per step and spend its time collecting them.
var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// lazyFile creates its file (and directory) on the first write.
type lazyFile struct {
	path string
	f    *os.File
}

func (l *lazyFile) Write(p []byte) (int, error) {
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
				return 0, fmt.Errorf("log: %w", err)
			}
			f, err = os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		}
		if err != nil {
			return 0, fmt.Errorf("log: %w", err)
		}
		l.f = f
	}
	return l.f.Write(p)
}

func (l *lazyFile) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// lineSplitter hands complete lines to the observer.
type lineSplitter struct {
	step    string
	obs     Observer
	partial []byte
}

const maxLine = 64 << 10 // a longer line is shown in pieces

func (s *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			if len(s.partial) >= maxLine {
				s.flush()
			}
			break
		}
		line := p[:i]
		if len(s.partial) > 0 {
			line = append(s.partial, line...)
			s.partial = s.partial[:0]
		}
		s.obs.StepLog(s.step, bytes.TrimSuffix(line, []byte("\r")))
		p = p[i+1:]
	}
	return n, nil
}

func (s *lineSplitter) flush() {
	if len(s.partial) > 0 {
		s.obs.StepLog(s.step, s.partial)
		s.partial = s.partial[:0]
	}
}
