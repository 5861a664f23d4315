package quality

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// Format names a report format, as written under a step's `reports:`.
type Format string

// Report formats.
const (
	JUnit      Format = "junit"
	GoTestJSON Format = "go-test-json"
)

// Formats lists the report formats Parse understands.
func Formats() []Format { return []Format{JUnit, GoTestJSON} }

var (
	// ErrUnknownFormat is returned for a Format that Parse does not know.
	ErrUnknownFormat = errors.New("unknown report format")
	// ErrNoReports is returned by ParseFiles when the pattern matches no file.
	ErrNoReports = errors.New("no report file matches")
)

// ParseError is a problem in one report file. Line is 0 when unknown.
type ParseError struct {
	File string
	Line int
	Msg  string
	Err  error // underlying error, if any
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads one report. name is only used in error messages. The reader
// is consumed as a stream: memory grows with the number of test cases, not
// with the report's size (except for the longest single text node of a
// JUnit report, which encoding/xml returns whole).
func Parse(format Format, name string, r io.Reader) ([]TestCase, error) {
	switch format {
	case JUnit:
		return parseJUnit(name, r)
	case GoTestJSON:
		return parseGoTestJSON(name, r)
	}
	return nil, fmt.Errorf("%w %q (known: %s, %s)", ErrUnknownFormat, format, JUnit, GoTestJSON)
}

// ParseFiles parses every file under dir matching pattern, a doublestar glob
// relative to dir ("reports/**/*.xml"). It returns the cases of all files in
// file order and the matched files relative to dir (slash-separated). A file
// that fails to parse does not stop the others: its error is joined into
// the returned error and the cases of the other files are still returned.
// Files last modified before since are leftovers of an earlier run and are
// ignored (a zero since takes every file).
func ParseFiles(format Format, dir string, pattern string, since time.Time) ([]TestCase, []string, error) {
	if !slices.Contains(Formats(), format) {
		return nil, nil, fmt.Errorf("%w %q (known: %s, %s)", ErrUnknownFormat, format, JUnit, GoTestJSON)
	}
	files, err := globReports(dir, pattern)
	if err != nil {
		return nil, nil, err
	}
	if !since.IsZero() {
		files = slices.DeleteFunc(files, func(f string) bool {
			info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f)))
			return err == nil && info.ModTime().Before(since)
		})
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("%w %q in %s written since %s", ErrNoReports, pattern, dir, since.Format(time.RFC3339))
		}
	}
	var cases []TestCase
	var errs []error
	for _, f := range files {
		got, err := parseFile(format, dir, f)
		if err != nil {
			errs = append(errs, err)
		}
		cases = append(cases, got...)
	}
	return cases, files, errors.Join(errs...)
}

func globReports(dir, pattern string) ([]string, error) {
	clean := strings.TrimPrefix(path.Clean(filepath.ToSlash(pattern)), "./")
	switch {
	case pattern == "":
		return nil, fmt.Errorf("report pattern is empty")
	case path.IsAbs(clean) || filepath.IsAbs(pattern) || clean == ".." || strings.HasPrefix(clean, "../"):
		return nil, fmt.Errorf("report pattern %q must be relative to the workspace and stay inside it", pattern)
	case !doublestar.ValidatePattern(clean):
		return nil, fmt.Errorf("report pattern %q is not a valid glob", pattern)
	}
	files, err := doublestar.Glob(os.DirFS(dir), clean, doublestar.WithFilesOnly())
	if err != nil {
		return nil, fmt.Errorf("matching report pattern %q in %s: %w", pattern, dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w %q in %s", ErrNoReports, pattern, dir)
	}
	slices.Sort(files)
	return files, nil
}

func parseFile(format Format, dir, name string) ([]TestCase, error) {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		return nil, &ParseError{File: name, Msg: "cannot open report: " + pathErrText(err), Err: err}
	}
	defer f.Close()
	return Parse(format, name, f)
}

// pathErrText drops the path os already put in err, since ParseError names
// the file itself.
func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
