package quality

import (
	"bytes"
	"context"
	"go/scanner"
	"go/token"
	"hash/fnv"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultMinDuplicateLines is how many consecutive significant lines must
// repeat to count as duplicated code.
const DefaultMinDuplicateLines = 10

// maxDupFileBytes skips bigger files (minified bundles, generated tables)
// in duplication detection.
const maxDupFileBytes = 1 << 20

// Duplication is a block of added lines that repeats code found elsewhere.
type Duplication struct {
	Path       string // file of the added lines
	Start, End int    // the added, duplicated lines (first and last significant line)
	OtherPath  string // one other place with the same code
	OtherLine  int
}

// DuplicationResult is what the change adds in duplicated code.
type DuplicationResult struct {
	NewLines        int // added significant lines in source files
	DuplicatedLines int // of those, lines inside a duplicated block
	Blocks          []Duplication
}

// Percent is DuplicatedLines/NewLines*100, NaN without new lines.
func (d *DuplicationResult) Percent() float64 { return percent(d.DuplicatedLines, d.NewLines) }

// sigLine is a significant line: not blank, not only punctuation, with
// whitespace (and for Go, comments) normalised away.
type sigLine struct {
	line int
	hash uint64
}

type dupLoc struct {
	file  string
	index int // first significant line of the window
	line  int // its line number
}

// FindDuplication finds the added lines (changed) that belong to a block of
// at least minLines significant lines repeated elsewhere in files or within
// the change, like a simple copy-paste detector: lines are normalised
// (whitespace, Go comments and import blocks ignored; blank and
// brace-only lines skipped), hashed, and windows of minLines consecutive
// hashes compared. files are repository paths under root; only source files
// (see IsSourceFile) take part. minLines <= 0 means
// DefaultMinDuplicateLines.
func FindDuplication(ctx context.Context, root string, files []string, changed map[string][]LineRange, minLines int) (*DuplicationResult, error) {
	if minLines <= 0 {
		minLines = DefaultMinDuplicateLines
	}
	sigs := map[string][]sigLine{}
	load := func(p string) []sigLine {
		s, ok := sigs[p]
		if !ok {
			s = significantLines(root, p)
			sigs[p] = s
		}
		return s
	}
	res := &DuplicationResult{}
	// Windows touching added lines are the only ones worth counting.
	targets := map[uint64][]dupLoc{}
	for p, ranges := range changed {
		if !IsSourceFile(p) {
			continue
		}
		lines := load(p)
		for _, l := range lines {
			if inRanges(ranges, l.line) {
				res.NewLines++
			}
		}
		for i := 0; i+minLines <= len(lines); i++ {
			if windowTouches(lines[i:i+minLines], ranges) {
				h := windowHash(lines[i : i+minLines])
				targets[h] = append(targets[h], dupLoc{p, i, lines[i].line})
			}
		}
	}
	if len(targets) == 0 {
		return res, ctx.Err()
	}
	seen := map[uint64][]dupLoc{} // every occurrence, up to a few
	for _, p := range withChanged(files, changed) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !IsSourceFile(p) {
			continue
		}
		lines := load(p)
		if _, isChanged := changed[p]; !isChanged {
			delete(sigs, p) // only changed files are needed again
		}
		for i := 0; i+minLines <= len(lines); i++ {
			h := windowHash(lines[i : i+minLines])
			if _, ok := targets[h]; ok && len(seen[h]) < 3 {
				seen[h] = append(seen[h], dupLoc{p, i, lines[i].line})
			}
		}
	}
	res.collect(sigs, changed, targets, seen, minLines)
	return res, nil
}

// collect marks the added lines of every window seen more than once.
func (res *DuplicationResult) collect(sigs map[string][]sigLine, changed map[string][]LineRange, targets, seen map[uint64][]dupLoc, minLines int) {
	dup := map[string]map[int]dupLoc{} // file -> significant index -> other place
	for h, locs := range targets {
		all := seen[h]
		if len(all) < 2 {
			continue
		}
		for _, loc := range locs {
			other := all[0]
			if other == loc {
				other = all[1]
			}
			m := dup[loc.file]
			if m == nil {
				m = map[int]dupLoc{}
				dup[loc.file] = m
			}
			for i := loc.index; i < loc.index+minLines; i++ {
				if _, ok := m[i]; !ok {
					m[i] = other
				}
			}
		}
	}
	for _, p := range sortedKeys(dup) {
		lines, m := sigs[p], dup[p]
		var cur *Duplication
		for i, l := range lines {
			other, ok := m[i]
			if !ok || !inRanges(changed[p], l.line) {
				cur = nil
				continue
			}
			res.DuplicatedLines++
			if cur == nil {
				res.Blocks = append(res.Blocks, Duplication{Path: p, Start: l.line, OtherPath: other.file, OtherLine: other.line})
				cur = &res.Blocks[len(res.Blocks)-1]
			}
			cur.End = l.line
		}
	}
}

// withChanged is files plus any changed file missing from it, so that a
// block copied within the change is found whatever files lists.
func withChanged(files []string, changed map[string][]LineRange) []string {
	in := make(map[string]bool, len(files))
	for _, f := range files {
		in[f] = true
	}
	out := files
	for _, p := range sortedKeys(changed) {
		if !in[p] {
			out = append(out[:len(out):len(out)], p)
		}
	}
	return out
}

func windowTouches(w []sigLine, ranges []LineRange) bool {
	for _, l := range w {
		if inRanges(ranges, l.line) {
			return true
		}
	}
	return false
}

func windowHash(w []sigLine) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, l := range w {
		for i := range b {
			b[i] = byte(l.hash >> (8 * i))
		}
		h.Write(b[:])
	}
	return h.Sum64()
}

func inRanges(ranges []LineRange, line int) bool {
	for _, r := range ranges {
		if r.Contains(line) {
			return true
		}
	}
	return false
}

// sourceExts are the file types duplication and new-code metrics look at:
// code, not data (lockfiles and fixtures repeat by nature).
var sourceExts = map[string]bool{
	".go": true, ".c": true, ".h": true, ".cc": true, ".cpp": true, ".hpp": true, ".cs": true,
	".java": true, ".kt": true, ".scala": true, ".groovy": true, ".js": true, ".jsx": true, ".mjs": true,
	".ts": true, ".tsx": true, ".py": true, ".rb": true, ".rs": true, ".php": true, ".swift": true,
	".m": true, ".sh": true, ".bash": true, ".lua": true, ".dart": true, ".ex": true, ".exs": true,
	".erl": true, ".clj": true, ".hs": true, ".ml": true, ".sql": true, ".vue": true, ".svelte": true,
}

// IsSourceFile reports whether a repository path is source code that
// duplication detection considers: a known source extension, outside
// vendor, node_modules and testdata directories.
func IsSourceFile(p string) bool {
	for _, dir := range strings.Split(path.Dir(p), "/") {
		if dir == "vendor" || dir == "node_modules" || dir == "testdata" {
			return false
		}
	}
	return sourceExts[strings.ToLower(path.Ext(p))]
}

var generatedGo = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

// significantLines reads a file and returns its normalised lines. Files
// that cannot be read, binary, too big or generated yield none.
func significantLines(root, p string) []sigLine {
	name := filepath.Join(root, filepath.FromSlash(p))
	info, err := os.Stat(name)
	if err != nil || !info.Mode().IsRegular() || info.Size() > maxDupFileBytes {
		return nil
	}
	src, err := os.ReadFile(name)
	if err != nil || bytes.IndexByte(src, 0) >= 0 {
		return nil
	}
	if strings.HasSuffix(p, ".go") {
		if generatedGo.Match(src) {
			return nil
		}
		return goLines(src)
	}
	return textLines(src)
}

// textLines normalises each line's whitespace.
func textLines(src []byte) []sigLine {
	var out []sigLine
	for i, line := range strings.Split(string(src), "\n") {
		norm := strings.Join(strings.Fields(line), " ")
		if significant(norm) {
			out = append(out, sigLine{i + 1, hashString(norm)})
		}
	}
	return out
}

// goLines rebuilds each line from its Go tokens, so comments and spacing
// do not matter, and drops the package clause and imports, which repeat
// across files without being copied code.
func goLines(src []byte) []sigLine {
	fset := token.NewFileSet()
	file := fset.AddFile("", -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, func(token.Position, string) {}, 0)
	lines := map[int]*strings.Builder{}
	var order []int
	skip, depth := false, 0 // inside package clause or import declaration
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON && lit == "\n" {
			if depth == 0 {
				skip = false
			}
			continue
		}
		switch {
		case tok == token.PACKAGE || tok == token.IMPORT:
			skip = true
		case skip && tok == token.LPAREN:
			depth++
		case skip && tok == token.RPAREN:
			depth--
		}
		if skip {
			if depth == 0 && tok == token.SEMICOLON {
				skip = false
			}
			continue
		}
		line := file.Line(pos)
		b := lines[line]
		if b == nil {
			b = &strings.Builder{}
			lines[line] = b
			order = append(order, line)
		}
		if lit == "" {
			lit = tok.String()
		}
		b.WriteString(lit)
		b.WriteByte(' ')
	}
	var out []sigLine
	for _, l := range order {
		norm := strings.TrimSpace(lines[l].String())
		if significant(norm) {
			out = append(out, sigLine{l, hashString(norm)})
		}
	}
	return out
}

// significant is false for lines made only of brackets and separators.
func significant(norm string) bool {
	return strings.Trim(norm, "{}()[];, ") != ""
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
