package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/slipway-ci/slipway/internal/secrets"
)

// logSink is where one attempt's output goes: through the secret masker,
// then to the log file and, line by line, to the observer. It streams: only
// a partial line and the masker's look-behind are ever held.
type logSink struct {
	file   *os.File
	buf    *bufio.Writer
	masked *secrets.Writer
	lines  *lineSplitter
	size   countWriter
}

// logPath is where a step attempt's log lives, relative to the state dir.
func logPath(runID int64, step string, attempt int) string {
	return filepath.Join("logs", fmt.Sprint(runID), fmt.Sprintf("%s.%d.log", url.PathEscape(step), attempt))
}

func openLog(path string, m *secrets.Masker, obs Observer, step string) (*logSink, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	l := &logSink{file: f}
	l.buf = bufio.NewWriterSize(io.MultiWriter(f, &l.size), 256<<10)
	var out io.Writer = l.buf
	if _, discard := obs.(Discard); !discard {
		l.lines = &lineSplitter{step: step, obs: obs}
		out = io.MultiWriter(l.buf, l.lines)
	}
	l.masked = m.NewWriter(out)
	return l, nil
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
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	return int64(l.size), err
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
