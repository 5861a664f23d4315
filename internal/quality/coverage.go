package quality

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Coverage report formats, as written under a step's `reports:`.
const (
	GoCover   Format = "go-cover"  // `go test -coverprofile`
	Cobertura Format = "cobertura" // Cobertura XML (coverage.py, gocover-cobertura, JaCoCo converters...)
	LCOV      Format = "lcov"      // LCOV tracefile (lcov, c8/istanbul, grcov, cargo-llvm-cov...)
)

// CoverageFormats lists the formats ParseCoverage understands.
func CoverageFormats() []Format { return []Format{GoCover, Cobertura, LCOV} }

// Limits on coverage input: a report past them is rejected rather than
// allowed to exhaust memory.
const (
	MaxCoverageBytes = 512 << 20 // one report file
	MaxCoverageLine  = 10_000_000
	maxCoverageHits  = math.MaxInt32
)

// Coverage is line coverage keyed by file path (slash-separated, relative
// to the repository root when the report's paths could be mapped there).
// A line present in a file's Lines is coverable; its value is how many
// times it ran (0 = not covered).
type Coverage struct {
	Files map[string]*FileCoverage
}

// FileCoverage is the line coverage of one file.
type FileCoverage struct {
	Lines map[int]int // line number (from 1) -> hits
}

// NewCoverage returns an empty Coverage.
func NewCoverage() *Coverage { return &Coverage{Files: map[string]*FileCoverage{}} }

// file returns the entry for p, creating it.
func (c *Coverage) file(p string) *FileCoverage {
	fc := c.Files[p]
	if fc == nil {
		fc = &FileCoverage{Lines: map[int]int{}}
		c.Files[p] = fc
	}
	return fc
}

// add records hits for a line, summing with what is there.
func (fc *FileCoverage) add(line, hits int) {
	fc.Lines[line] = addHits(fc.Lines[line], hits)
}

// addHits sums hit counts without overflowing.
func addHits(a, b int) int {
	if a > maxCoverageHits-b {
		return maxCoverageHits
	}
	return a + b
}

// Merge adds o's coverage to c: coverable lines are the union, hits add up
// (several test runs over the same code).
func (c *Coverage) Merge(o *Coverage) {
	if o == nil {
		return
	}
	for p, ofc := range o.Files {
		fc := c.file(p)
		for line, hits := range ofc.Lines {
			fc.add(line, hits)
		}
	}
}

// Totals counts covered and coverable lines over every file.
func (c *Coverage) Totals() (covered, coverable int) {
	if c == nil {
		return 0, 0
	}
	for _, fc := range c.Files {
		for _, hits := range fc.Lines {
			coverable++
			if hits > 0 {
				covered++
			}
		}
	}
	return covered, coverable
}

// Percent is covered/coverable*100 over every file, or NaN when nothing is
// coverable (there is no coverage to speak of, rather than 0 %).
func (c *Coverage) Percent() float64 {
	covered, coverable := c.Totals()
	return percent(covered, coverable)
}

func percent(part, whole int) float64 {
	if whole == 0 {
		return math.NaN()
	}
	return float64(part) * 100 / float64(whole)
}

// CoverageOptions say how report paths map to repository paths.
type CoverageOptions struct {
	// Root is the repository root. Absolute paths under it become
	// relative; absolute paths outside it (system headers, the module
	// cache) are dropped. "" keeps absolute paths as they are.
	Root string
	// Modules maps Go module paths to their directory relative to Root
	// ("" for the root module), to turn the import paths of a Go
	// coverprofile into file paths. See GoModules.
	Modules map[string]string
}

// ParseCoverage reads one coverage report. name is only used in error
// messages, which are *ParseError values naming the file and line.
func ParseCoverage(format Format, name string, r io.Reader, opts CoverageOptions) (*Coverage, error) {
	lr := &capReader{r: io.LimitReader(r, coverageCap+1)}
	var c *Coverage
	var err error
	switch format {
	case GoCover:
		c, err = parseGoCover(name, lr, opts)
	case Cobertura:
		c, err = parseCobertura(name, lr, opts)
	case LCOV:
		c, err = parseLCOV(name, lr, opts)
	default:
		return nil, fmt.Errorf("%w %q (known: %s, %s, %s)", ErrUnknownFormat, format, GoCover, Cobertura, LCOV)
	}
	if lr.n > coverageCap {
		return nil, &ParseError{File: name, Msg: fmt.Sprintf("report is larger than %d MiB", coverageCap>>20)}
	}
	return c, err
}

// coverageCap is MaxCoverageBytes, lowered by tests.
var coverageCap int64 = MaxCoverageBytes

// capReader counts the bytes read, to tell a truncated report from a
// complete one.
type capReader struct {
	r io.Reader
	n int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ParseCoverageFiles parses and merges every file under dir matching
// pattern (a doublestar glob relative to dir), like ParseFiles. It returns
// the merged coverage, the files read (relative to dir) and every file's
// error joined; the coverage of the readable files is still returned.
func ParseCoverageFiles(format Format, dir, pattern string, opts CoverageOptions) (*Coverage, []string, error) {
	if !slices.Contains(CoverageFormats(), format) {
		return nil, nil, fmt.Errorf("%w %q (known: %s, %s, %s)", ErrUnknownFormat, format, GoCover, Cobertura, LCOV)
	}
	files, err := globReports(dir, pattern)
	if err != nil {
		return nil, nil, err
	}
	out := NewCoverage()
	var errs []error
	for _, name := range files {
		c, err := parseCoverageFile(format, dir, name, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Merge(c)
	}
	return out, files, errors.Join(errs...)
}

func parseCoverageFile(format Format, dir, name string, opts CoverageOptions) (*Coverage, error) {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		return nil, &ParseError{File: name, Msg: "cannot open report: " + pathErrText(err), Err: err}
	}
	defer f.Close()
	return ParseCoverage(format, name, f, opts)
}

// repoPath turns a path from a report into a slash-separated path relative
// to opts.Root. ok is false for paths that leave the root.
func repoPath(p string, opts CoverageOptions) (string, bool) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", false
	}
	native := filepath.FromSlash(p)
	if filepath.IsAbs(native) || path.IsAbs(p) {
		if opts.Root == "" {
			return path.Clean(filepath.ToSlash(native)), true
		}
		rel, err := filepath.Rel(opts.Root, native)
		if err != nil || !filepath.IsLocal(rel) {
			return "", false
		}
		return filepath.ToSlash(rel), true
	}
	clean := path.Clean(filepath.ToSlash(p))
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	return clean, true
}

// clip shortens untrusted text quoted in an error message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
