package quality

import (
	"encoding/xml"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// maxXMLDepth bounds element nesting; Cobertura reports are six deep.
const maxXMLDepth = 64

// coberturaParser streams a Cobertura report. Only class-level <lines> are
// read: method-level lines repeat them.
type coberturaParser struct {
	xmlReport
	stack   []string
	sources []string
	class   string                 // filename of the open <class>, as written
	files   map[string]map[int]int // filename as written -> line -> hits
	sawRoot bool
}

// parseCobertura reads a Cobertura XML report. File names are relative to
// one of the report's <source> directories; the first source under which
// the file exists (relative to opts.Root) wins.
func parseCobertura(name string, r io.Reader, opts CoverageOptions) (*Coverage, error) {
	p := &coberturaParser{xmlReport: newXMLReport(name, r), files: map[string]map[int]int{}}
	if err := p.each(p.token); err != nil {
		return nil, err
	}
	if !p.sawRoot {
		return nil, &ParseError{File: name, Msg: "not a Cobertura report: no XML element found (empty file?)"}
	}
	return p.coverage(opts), nil
}

func (p *coberturaParser) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		return p.start(t)
	case xml.EndElement:
		p.stack = p.stack[:len(p.stack)-1]
		if t.Name.Local == "class" {
			p.class = ""
		}
	case xml.CharData:
		if p.parent(0) == "source" && p.parent(1) == "sources" && len(p.sources) > 0 {
			last := &p.sources[len(p.sources)-1]
			if len(*last)+len(t) > 4096 {
				return p.errorf("<source> is longer than 4096 bytes")
			}
			*last += string(t)
		}
	}
	return nil
}

func (p *coberturaParser) start(t xml.StartElement) error {
	if !p.sawRoot {
		p.sawRoot = true
		if t.Name.Local != "coverage" {
			return p.errorf("not a Cobertura report: the root element is <%s>, not <coverage>", clip(t.Name.Local))
		}
	}
	if len(p.stack) >= maxXMLDepth {
		return p.errorf("elements nest deeper than %d levels", maxXMLDepth)
	}
	p.stack = append(p.stack, t.Name.Local)
	switch t.Name.Local {
	case "source":
		if p.parent(1) == "sources" {
			p.sources = append(p.sources, "")
		}
	case "class":
		f := strings.TrimSpace(attr(t, "filename"))
		if f == "" {
			return p.errorf("<class> without a filename attribute")
		}
		p.class = f
		if p.files[f] == nil {
			p.files[f] = map[int]int{}
		}
	case "line":
		if p.class == "" || p.parent(1) != "lines" || p.parent(2) != "class" {
			return nil
		}
		return p.line(t)
	}
	return nil
}

func (p *coberturaParser) line(t xml.StartElement) error {
	n, err := strconv.Atoi(strings.TrimSpace(attr(t, "number")))
	if err != nil || n < 1 || n > MaxCoverageLine {
		return p.errorf("<line> in %q: number %q is not a line number between 1 and %d", clip(p.class), clip(attr(t, "number")), MaxCoverageLine)
	}
	hits, err := count(strings.TrimSpace(attr(t, "hits")))
	if err != nil {
		return p.errorf("<line number=%q> in %q: hits: %v", strconv.Itoa(n), clip(p.class), err)
	}
	lines := p.files[p.class]
	lines[n] = addHits(lines[n], hits)
	return nil
}

// parent is the name of the element i levels above the current one (0 =
// the current element), or "".
func (p *coberturaParser) parent(i int) string {
	if i >= len(p.stack) {
		return ""
	}
	return p.stack[len(p.stack)-1-i]
}

func (p *coberturaParser) coverage(opts CoverageOptions) *Coverage {
	c := NewCoverage()
	for f, lines := range p.files {
		rp, ok := p.resolve(f, opts)
		if !ok || len(lines) == 0 {
			continue
		}
		fc := c.file(rp)
		for l, h := range lines {
			fc.add(l, h)
		}
	}
	return c
}

// resolve maps a class filename to a repository path through the sources.
func (p *coberturaParser) resolve(f string, opts CoverageOptions) (string, bool) {
	if filepath.IsAbs(filepath.FromSlash(f)) || len(p.sources) == 0 {
		return repoPath(f, opts)
	}
	var candidates []string
	for _, s := range p.sources {
		s = strings.TrimSpace(s)
		if s == "" || s == "." {
			candidates = append(candidates, f)
			continue
		}
		candidates = append(candidates, path.Join(filepath.ToSlash(s), f))
	}
	first := ""
	for _, cand := range candidates {
		rp, ok := repoPath(cand, opts)
		if !ok {
			continue
		}
		if first == "" {
			first = rp
		}
		if opts.Root != "" && !path.IsAbs(rp) {
			if _, err := os.Stat(filepath.Join(opts.Root, filepath.FromSlash(rp))); err == nil {
				return rp, true
			}
		}
	}
	if first != "" {
		return first, true
	}
	// Every source is outside the root (the report was made on another
	// machine): the file name alone is the best guess.
	return repoPath(f, opts)
}
