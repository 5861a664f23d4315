package quality

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parseLCOV reads an LCOV tracefile: records of "SF:<path>", "DA:<line>,
// <hits>[,<checksum>]" lines and "end_of_record". Other records (TN, FN,
// FNDA, BRDA, LF, LH...) are about functions and branches and are skipped.
// Relative SF paths are taken as relative to the repository root.
func parseLCOV(name string, r io.Reader, opts CoverageOptions) (*Coverage, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	c := NewCoverage()
	var cur *FileCoverage // nil outside a record or for a file outside the root
	inRecord := false
	lineNo, sawRecord := 0, false
	for sc.Scan() {
		lineNo++
		text := strings.TrimSpace(sc.Text())
		key, val, _ := strings.Cut(text, ":")
		switch {
		case text == "" || strings.HasPrefix(text, "#"):
		case text == "end_of_record":
			if !inRecord {
				return nil, &ParseError{File: name, Line: lineNo, Msg: "end_of_record without a preceding SF: line"}
			}
			cur, inRecord = nil, false
		case key == "SF":
			if inRecord {
				return nil, &ParseError{File: name, Line: lineNo, Msg: "SF: inside a record: the previous record has no end_of_record"}
			}
			inRecord, sawRecord = true, true
			if p, ok := repoPath(val, opts); ok {
				cur = c.file(p)
			}
		case key == "DA":
			if !inRecord {
				return nil, &ParseError{File: name, Line: lineNo, Msg: "DA: outside a record (no SF: line before it)"}
			}
			line, hits, err := parseDA(val)
			if err != nil {
				return nil, &ParseError{File: name, Line: lineNo, Msg: err.Error()}
			}
			if cur != nil {
				cur.add(line, hits)
			}
		case isLCOVKey(key):
		default:
			return nil, &ParseError{File: name, Line: lineNo, Msg: fmt.Sprintf("not an LCOV line: %q", clip(text))}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: name, Line: lineNo + 1, Msg: "reading report: " + err.Error(), Err: err}
	}
	switch {
	case !sawRecord:
		return nil, &ParseError{File: name, Msg: "not an LCOV tracefile: no SF: record"}
	case inRecord:
		return nil, &ParseError{File: name, Line: lineNo, Msg: "last record has no end_of_record (truncated report?)"}
	}
	for p, fc := range c.Files {
		if len(fc.Lines) == 0 {
			delete(c.Files, p)
		}
	}
	return c, nil
}

// parseDA reads "<line>,<hits>[,<checksum>]". Some generators write a
// negative count for lines they could not instrument; those are not
// coverable lines and are rejected rather than guessed at.
func parseDA(val string) (int, int, error) {
	parts := strings.Split(val, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, fmt.Errorf("DA:%s: want DA:<line>,<hits>", clip(val))
	}
	line, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || line < 1 || line > MaxCoverageLine {
		return 0, 0, fmt.Errorf("DA:%s: line %q is not a number between 1 and %d", clip(val), clip(parts[0]), MaxCoverageLine)
	}
	hits, err := count(strings.TrimSpace(parts[1]))
	if err != nil {
		return 0, 0, fmt.Errorf("DA:%s: hits: %w", clip(val), err)
	}
	return line, hits, nil
}

// isLCOVKey reports whether key is an LCOV record that carries nothing
// line coverage needs.
func isLCOVKey(key string) bool {
	switch key {
	case "TN", "VER", "FN", "FNDA", "FNF", "FNH", "FNL", "FNA", "BRDA", "BRF", "BRH", "LF", "LH", "MCDC", "MCF", "MCH":
		return true
	}
	return false
}
