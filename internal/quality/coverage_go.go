package quality

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
)

// goBlock is one basic block of a Go coverprofile.
type goBlock struct {
	startLine, startCol, endLine, endCol int
	stmts, count                         int
}

// parseGoCover reads `go test -coverprofile` output: a "mode:" line, then
// "file.go:l0.c0,l1.c1 statements count" per block. Profiles concatenated
// from several runs repeat the mode line; blocks repeated across runs (or
// across packages with -coverpkg) are merged as cmd/cover does: OR-ed in
// set mode, added in count and atomic modes.
func parseGoCover(name string, r io.Reader, opts CoverageOptions) (*Coverage, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	mode := ""
	blocks := map[string]map[[4]int]*goBlock{} // report path -> position -> block
	lineNo := 0
	for sc.Scan() {
		lineNo++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if m, ok := strings.CutPrefix(text, "mode:"); ok {
			m = strings.TrimSpace(m)
			switch {
			case m != "set" && m != "count" && m != "atomic":
				return nil, &ParseError{File: name, Line: lineNo, Msg: fmt.Sprintf("unknown coverage mode %q (want set, count or atomic)", m)}
			case mode != "" && m != mode:
				return nil, &ParseError{File: name, Line: lineNo, Msg: fmt.Sprintf("coverage mode %q differs from %q above", m, mode)}
			}
			mode = m
			continue
		}
		if mode == "" {
			return nil, &ParseError{File: name, Line: lineNo, Msg: `not a Go coverprofile: the first line must be "mode: set|count|atomic"`}
		}
		file, b, err := parseGoBlock(text)
		if err != nil {
			return nil, &ParseError{File: name, Line: lineNo, Msg: err.Error()}
		}
		if err := mergeGoBlock(blocks, file, b, mode); err != nil {
			return nil, &ParseError{File: name, Line: lineNo, Msg: err.Error()}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: name, Line: lineNo + 1, Msg: "reading report: " + err.Error(), Err: err}
	}
	if mode == "" {
		return nil, &ParseError{File: name, Msg: "empty Go coverprofile: no \"mode:\" line"}
	}
	return goCoverage(blocks, opts), nil
}

func mergeGoBlock(blocks map[string]map[[4]int]*goBlock, file string, b goBlock, mode string) error {
	fb := blocks[file]
	if fb == nil {
		fb = map[[4]int]*goBlock{}
		blocks[file] = fb
	}
	key := [4]int{b.startLine, b.startCol, b.endLine, b.endCol}
	prev := fb[key]
	switch {
	case prev == nil:
		fb[key] = &b
	case prev.stmts != b.stmts:
		return fmt.Errorf("block %s:%d.%d,%d.%d has %d statements here and %d earlier", file, key[0], key[1], key[2], key[3], b.stmts, prev.stmts)
	case mode == "set":
		prev.count = min(1, prev.count|b.count)
	default:
		prev.count = addHits(prev.count, b.count)
	}
	return nil
}

// parseGoBlock parses "file.go:l0.c0,l1.c1 statements count".
func parseGoBlock(text string) (string, goBlock, error) {
	var b goBlock
	fields := strings.Fields(text)
	if len(fields) < 3 {
		return "", b, fmt.Errorf("want \"file:line.col,line.col statements count\", got %q", clip(text))
	}
	pos := strings.Join(fields[:len(fields)-2], " ") // file names may contain spaces
	colon := strings.LastIndexByte(pos, ':')
	if colon <= 0 {
		return "", b, fmt.Errorf("block %q has no file name", clip(pos))
	}
	file, span := pos[:colon], pos[colon+1:]
	start, end, ok := strings.Cut(span, ",")
	if !ok {
		return "", b, fmt.Errorf("block position %q: want line.col,line.col", clip(span))
	}
	var err error
	if b.startLine, b.startCol, err = lineCol(start); err == nil {
		b.endLine, b.endCol, err = lineCol(end)
	}
	if err != nil {
		return "", b, fmt.Errorf("block position %q: %w", clip(span), err)
	}
	if b.endLine < b.startLine {
		return "", b, fmt.Errorf("block %q ends before it starts", clip(span))
	}
	if b.stmts, err = count(fields[len(fields)-2]); err != nil {
		return "", b, fmt.Errorf("statement count: %w", err)
	}
	if b.count, err = count(fields[len(fields)-1]); err != nil {
		return "", b, fmt.Errorf("hit count: %w", err)
	}
	return file, b, nil
}

func lineCol(s string) (int, int, error) {
	l, c, ok := strings.Cut(s, ".")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not line.col", clip(s))
	}
	line, err := strconv.Atoi(l)
	if err != nil || line < 1 || line > MaxCoverageLine {
		return 0, 0, fmt.Errorf("line %q is not a number between 1 and %d", clip(l), MaxCoverageLine)
	}
	col, err := strconv.Atoi(c)
	if err != nil || col < 0 {
		return 0, 0, fmt.Errorf("column %q is not a number", clip(c))
	}
	return line, col, nil
}

// count parses a non-negative count, saturating very large values.
func count(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return maxCoverageHits, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", clip(s))
	}
	return int(min(n, maxCoverageHits)), nil
}

// goCoverage turns blocks into line coverage. Every line a block with
// statements spans is coverable; a line shared by blocks (a closing brace
// and an else) takes the highest count, as line-based tools do.
func goCoverage(blocks map[string]map[[4]int]*goBlock, opts CoverageOptions) *Coverage {
	c := NewCoverage()
	for file, fb := range blocks {
		p, ok := goFilePath(file, opts)
		if !ok {
			continue
		}
		fc := c.file(p)
		for _, b := range fb {
			if b.stmts == 0 {
				continue
			}
			for l := b.startLine; l <= b.endLine; l++ {
				if hits, seen := fc.Lines[l]; !seen || b.count > hits {
					fc.Lines[l] = b.count
				}
			}
		}
		if len(fc.Lines) == 0 {
			delete(c.Files, p)
		}
	}
	return c
}

// goFilePath maps a coverprofile file (an import path plus file name, or
// an absolute path for files outside a module) to a repository path.
// Without module information the name is kept; with it, files of other
// modules (dependencies covered with -coverpkg) are dropped.
func goFilePath(file string, opts CoverageOptions) (string, bool) {
	if filepath.IsAbs(filepath.FromSlash(file)) || len(opts.Modules) == 0 {
		return repoPath(file, opts)
	}
	best, bestDir := "", ""
	for mod, dir := range opts.Modules {
		if strings.HasPrefix(file, mod+"/") && len(mod) > len(best) {
			best, bestDir = mod, dir
		}
	}
	if best == "" {
		return "", false
	}
	return repoPath(path.Join(bestDir, strings.TrimPrefix(file, best+"/")), opts)
}

// maxModules bounds GoModules' walk so a huge tree cannot stall it.
const maxModules = 10_000

// GoModules finds the Go modules under root: module path -> directory
// relative to root ("" for a go.mod at the root). vendor, testdata,
// node_modules and hidden directories are skipped, as the go command does.
func GoModules(root string) (map[string]string, error) {
	mods := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if p != root && (n == "vendor" || n == "testdata" || n == "node_modules" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mod := modfile.ModulePath(data)
		if mod == "" {
			return nil // not a module file we can use; its files stay unmapped
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); rel == "." {
			rel = ""
		}
		mods[mod] = rel
		if len(mods) > maxModules {
			return fmt.Errorf("more than %d Go modules", maxModules)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finding Go modules under %s: %w", root, err)
	}
	return mods, nil
}
