package quality

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// `go test -json` (test2json) writes one JSON event per line, but the go
// command and the user's shell mix plain text in: build errors before Go
// 1.24, "go: downloading" notes, a crash of go itself. So the stream is read
// line by line (bounded), each line decoded on its own; plain lines are kept
// as context for package failures instead of aborting the parse.

// maxLine bounds one line in memory; longer lines are cut and kept as plain
// context (test2json itself never writes such lines).
const maxLine = 1 << 20

type goEvent struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string // build-output / build-fail events (Go 1.24+)
	FailedBuild string // on a package's fail event when its build failed
}

type goTestKey struct{ pkg, test string }

// goRun is one execution of a test that has started and not yet finished.
type goRun struct {
	index int // into goParser.cases
	out   excerpt
}

type goPkg struct {
	out         excerpt
	failedTests int
	done        bool
}

// reset starts a new go test invocation of the package: reports of reruns
// are often concatenated, and each invocation is judged on its own.
func (pk *goPkg) reset() { *pk = goPkg{} }

type goParser struct {
	name    string
	cases   []TestCase
	running map[goTestKey]*goRun
	pkgs    map[string]*goPkg
	order   []string // packages in order of appearance
	build   map[string]*excerpt
	// Plain (non-JSON) lines, attributed to a package after a "# pkg" header
	// as the go command prints before build errors.
	plain      map[string]*excerpt
	plainPkg   string
	events     int
	firstPlain string
	// failedParents holds the tests with a failed subtest; subtests finish
	// before their parents.
	failedParents map[goTestKey]bool
}

func parseGoTestJSON(name string, r io.Reader) ([]TestCase, error) {
	p := &goParser{
		name:    name,
		running: map[goTestKey]*goRun{},
		pkgs:    map[string]*goPkg{},
		build:   map[string]*excerpt{},
		plain:   map[string]*excerpt{},

		failedParents: map[goTestKey]bool{},
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br)
		if len(line) > 0 {
			p.line(line)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &ParseError{File: name, Line: lineNo, Msg: "reading report: " + err.Error(), Err: err}
		}
	}
	if p.events == 0 {
		msg := "no `go test -json` events found (is this the output of go test -json?)"
		if p.firstPlain != "" {
			msg += fmt.Sprintf("; first line: %q", p.firstPlain)
		}
		return nil, &ParseError{File: name, Msg: msg}
	}
	for _, pkg := range p.order {
		if !p.pkgs[pkg].done {
			p.finishPackage(pkg, "")
		}
	}
	// Tests still running in a finished package (events after its result).
	for _, pkg := range p.order {
		p.finishRunning(pkg)
	}
	return p.cases, nil
}

// readLine returns the next line without its line ending, cut at maxLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if room := maxLine - len(line); room > 0 {
			line = append(line, chunk[:min(len(chunk), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), err
	}
}

func (p *goParser) line(line []byte) {
	var ev goEvent
	if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 && trimmed[0] == '{' {
		if json.Unmarshal(trimmed, &ev) == nil && ev.Action != "" {
			p.events++
			p.event(ev)
			return
		}
	}
	p.plainLine(string(line))
}

func (p *goParser) plainLine(s string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	if p.firstPlain == "" {
		p.firstPlain = clean(trimRuneEnd(s[:min(len(s), 200)]))
	}
	if h, ok := strings.CutPrefix(s, "# "); ok {
		p.plainPkg = importPath(h)
	}
	x := p.plain[p.plainPkg]
	if x == nil {
		x = &excerpt{}
		p.plain[p.plainPkg] = x
	}
	x.WriteString(s + "\n")
}

// importPath strips the " [pkg.test]" variant suffix the go command adds.
func importPath(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, " ["); i > 0 {
		s = s[:i]
	}
	return s
}

func (p *goParser) event(ev goEvent) {
	ev.Package, ev.Test = cleanName(ev.Package), cleanName(ev.Test)
	switch {
	case ev.Action == "build-output":
		x := p.build[ev.ImportPath]
		if x == nil {
			x = &excerpt{}
			p.build[ev.ImportPath] = x
		}
		x.WriteString(ev.Output)
	case ev.Package == "":
		// build-fail, or an event this parser does not know: nothing to record.
	case ev.Test != "":
		p.testEvent(ev)
	default:
		p.packageEvent(ev)
	}
}

func (p *goParser) pkg(name string) *goPkg {
	pk := p.pkgs[name]
	if pk == nil {
		pk = &goPkg{}
		p.pkgs[name] = pk
		p.order = append(p.order, name)
	}
	return pk
}

func (p *goParser) testEvent(ev goEvent) {
	key := goTestKey{ev.Package, ev.Test}
	p.pkg(ev.Package)
	run := p.running[key]
	if ev.Action == "run" && run != nil {
		// A second run of a test that never finished (-count with a lost
		// result): close the first execution before starting another.
		p.unfinished(key, run)
		run = nil
	}
	if run == nil {
		if ev.Action != "run" && ev.Action != "output" && !isFinal(ev.Action) {
			return
		}
		run = &goRun{index: len(p.cases)}
		p.cases = append(p.cases, TestCase{Suite: ev.Package, Name: ev.Test})
		p.running[key] = run
	}
	switch ev.Action {
	case "output", "bench":
		if !isFraming(ev.Output) {
			// The testing package indents test output by four spaces.
			out, _ := strings.CutPrefix(ev.Output, "    ")
			run.out.WriteString(out)
		}
	case "pass", "fail", "skip":
		p.finish(key, run, ev)
	}
}

func isFinal(action string) bool {
	return action == "pass" || action == "fail" || action == "skip"
}

// isFraming reports the lines the testing package prints around each test;
// they say nothing the outcome does not, and dropping them leaves a test
// that failed only through its subtests with an empty message.
func isFraming(line string) bool {
	s := strings.TrimLeft(line, " ")
	for _, prefix := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS: ", "--- FAIL: ", "--- SKIP: "} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func (p *goParser) finish(key goTestKey, run *goRun, ev goEvent) {
	delete(p.running, key)
	tc := &p.cases[run.index]
	tc.Duration = secondsToDuration(ev.Elapsed, nil)
	switch ev.Action {
	case "pass":
		tc.Outcome = Passed
	case "skip":
		tc.Outcome = Skipped
		tc.Message = run.out.String()
	default:
		tc.Outcome = Failed
		tc.Message = run.out.String()
		if tc.Message == "" && !p.failedParents[key] {
			tc.Message = "(no failure message)"
		}
		p.failed(key)
	}
}

func (p *goParser) failed(key goTestKey) {
	p.pkgs[key.pkg].failedTests++
	for name := key.test; ; {
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return
		}
		name = name[:i]
		p.failedParents[goTestKey{key.pkg, name}] = true
	}
}

// unfinished closes a test that started but never reported a result: the
// test binary crashed, called os.Exit or timed out while it ran.
func (p *goParser) unfinished(key goTestKey, run *goRun) {
	delete(p.running, key)
	tc := &p.cases[run.index]
	tc.Outcome = Failed
	tc.Message = bounded("test did not finish: the test binary crashed, exited or timed out while it ran\n", run.out.String())
	p.failed(key)
}

func (p *goParser) packageEvent(ev goEvent) {
	pk := p.pkg(ev.Package)
	switch ev.Action {
	case "start":
		if pk.done {
			pk.reset()
		}
	case "output":
		pk.out.WriteString(ev.Output)
	case "pass", "skip":
		p.finishPackage(ev.Package, ev.Action)
	case "fail":
		p.finishPackage(ev.Package, ev.Action)
		if pk.failedTests == 0 {
			p.packageFailure(ev, pk)
		}
	}
}

// finishPackage closes the tests of pkg still running; action is the
// package's final action, or "" when the report ends without one.
func (p *goParser) finishPackage(pkg, action string) {
	pk := p.pkgs[pkg]
	pk.done = true
	p.finishRunning(pkg)
	if action == "" && pk.failedTests == 0 {
		p.cases = append(p.cases, TestCase{
			Suite: pkg, Name: PackageTest, Outcome: Failed,
			Message: bounded("package did not finish: the report ends before go test reported a result\n", pk.out.String()),
		})
	}
}

// finishRunning closes pkg's unfinished tests in start order, for stable
// output.
func (p *goParser) finishRunning(pkg string) {
	var keys []goTestKey
	for key := range p.running {
		if key.pkg == pkg {
			keys = append(keys, key)
		}
	}
	slices.SortFunc(keys, func(a, b goTestKey) int {
		return cmp.Compare(p.running[a].index, p.running[b].index)
	})
	for _, key := range keys {
		p.unfinished(key, p.running[key])
	}
}

func (p *goParser) packageFailure(ev goEvent, pk *goPkg) {
	var parts []string
	if ev.FailedBuild != "" || strings.Contains(pk.out.String(), "[build failed]") {
		parts = append(parts, "build failed\n")
	} else {
		parts = append(parts, "package failed outside any test (TestMain, init or a crash between tests)\n")
	}
	if x := p.build[ev.FailedBuild]; ev.FailedBuild != "" && x != nil {
		parts = append(parts, x.String(), "\n")
	}
	if x := p.plain[ev.Package]; x != nil {
		parts = append(parts, x.String(), "\n")
	} else if x := p.plain[""]; x != nil && ev.FailedBuild == "" {
		parts = append(parts, x.String(), "\n")
	}
	parts = append(parts, pk.out.String())
	p.cases = append(p.cases, TestCase{
		Suite:    ev.Package,
		Name:     PackageTest,
		Duration: secondsToDuration(ev.Elapsed, nil),
		Outcome:  Failed,
		Message:  bounded(parts...),
	})
}
