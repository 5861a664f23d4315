package quality

import (
	"encoding/xml"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// JUnit XML has no single schema: Ant, Maven Surefire, Gradle, pytest,
// jest-junit, PHPUnit and go-junit-report all write variants. The parser walks
// tokens rather than unmarshalling into structs so that it accepts any
// nesting of <testsuite> and holds one token at a time, not the document
// (encoding/xml does return a text node as one token, however long).

// junitCase is the testcase being read.
type junitCase struct {
	tc                      TestCase
	line                    int
	failure, errored, skip  bool
	detail, output, flakies excerpt
}

type junitParser struct {
	xmlReport
	depth  int
	suites []string // names of the enclosing <testsuite> elements
	cur    *junitCase
	// into receives character data of the element being captured, and
	// intoDepth is that element's depth, so its end is recognised.
	into      *excerpt
	intoDepth int
	elem      junitElem
	// skipDepth is the depth of an ignored child of <testcase> (properties,
	// rerunFailure...), whose content must not be read as the test's own.
	skipDepth int
	cases     []TestCase
	sawRoot   bool
}

func parseJUnit(name string, r io.Reader) ([]TestCase, error) {
	p := &junitParser{xmlReport: newXMLReport(name, r)}
	if err := p.each(p.token); err != nil {
		return nil, err
	}
	if !p.sawRoot {
		return nil, &ParseError{File: name, Msg: "not a JUnit XML report: no XML element found (empty file?)"}
	}
	return p.cases, nil
}

func (p *junitParser) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		p.depth++
		return p.start(t)
	case xml.EndElement:
		p.end(t)
		p.depth--
	case xml.CharData:
		if p.into != nil {
			p.into.WriteString(string(t))
		}
	}
	return nil
}

func (p *junitParser) start(t xml.StartElement) error {
	el := t.Name.Local
	if !p.sawRoot {
		p.sawRoot = true
		if el != "testsuites" && el != "testsuite" {
			return p.errorf("not a JUnit XML report: the root element is <%s>, not <testsuites> or <testsuite>", el)
		}
	}
	if p.cur == nil {
		switch el {
		case "testsuite":
			p.suites = append(p.suites, attr(t, "name"))
		case "testcase":
			return p.startCase(t)
		}
		return nil
	}
	if p.into != nil || p.skipDepth > 0 {
		return nil // markup inside captured text, or inside an ignored child
	}
	return p.startCaseChild(t)
}

func (p *junitParser) startCase(t xml.StartElement) error {
	line, _ := p.dec.InputPos()
	name := cleanName(attr(t, "name"))
	if name == "" {
		return p.errorf("<testcase> without a name attribute")
	}
	suite := attr(t, "classname")
	if strings.TrimSpace(suite) == "" && len(p.suites) > 0 {
		suite = p.suites[len(p.suites)-1]
	}
	p.cur = &junitCase{line: line, tc: TestCase{
		Suite:    cleanName(suite),
		Name:     name,
		Duration: parseSeconds(attr(t, "time")),
	}}
	return nil
}

// startCaseChild reads a direct child of <testcase>.
func (p *junitParser) startCaseChild(t xml.StartElement) error {
	c := p.cur
	switch t.Name.Local {
	case "testcase":
		return p.errorf("<testcase> inside <testcase> (line %d)", c.line)
	case "failure", "error", "skipped":
		c.errored = c.errored || t.Name.Local == "error"
		c.failure = c.failure || t.Name.Local == "failure"
		c.skip = c.skip || t.Name.Local == "skipped"
		p.elem = junitElem{kind: t.Name.Local, typ: attr(t, "type"), msg: attr(t, "message")}
		p.into = &p.elem.body
	case "system-out", "system-err":
		p.into = &c.output
	case "flakyFailure", "flakyError":
		// Surefire's rerun: the test failed, then passed on a rerun. Its
		// nested stack trace and output are noise for a passing test.
		writeLine(&c.flakies, problemHeader(attr(t, "type"), attr(t, "message")))
		p.skipDepth = p.depth
		return nil
	default: // properties, rerunFailure (repeats <failure>), unknown extensions
		p.skipDepth = p.depth
		return nil
	}
	p.intoDepth = p.depth
	return nil
}

// junitElem is a <failure>, <error> or <skipped> being read.
type junitElem struct {
	kind, typ, msg string
	body           excerpt
}

// detail renders the element: its message attribute, unless the body
// already says it (Surefire and pytest repeat it as the body's first line).
func (e *junitElem) detail() string {
	body := strings.TrimSpace(e.body.String())
	header := problemHeader(e.typ, e.msg)
	head := body[:min(len(body), 512)]
	switch {
	case body == "":
		return header
	case header == "",
		e.msg != "" && strings.Contains(head, e.msg),
		e.msg == "" && strings.Contains(head, e.typ):
		return body
	}
	return header + "\n" + body
}

func problemHeader(typ, msg string) string {
	switch {
	case typ != "" && msg != "" && !strings.HasPrefix(msg, typ):
		return typ + ": " + msg
	case msg != "":
		return msg
	}
	return typ
}

func writeLine(x *excerpt, s string) {
	if s == "" {
		return
	}
	if x.Len() > 0 {
		x.WriteString("\n")
	}
	x.WriteString(s)
}

func (p *junitParser) end(t xml.EndElement) {
	switch {
	case p.into != nil:
		if p.depth == p.intoDepth {
			if p.into == &p.elem.body {
				writeLine(&p.cur.detail, p.elem.detail())
				p.elem = junitElem{}
			}
			p.into = nil
		}
	case p.skipDepth > 0:
		if p.depth == p.skipDepth {
			p.skipDepth = 0
		}
	case p.cur != nil && t.Name.Local == "testcase":
		p.cases = append(p.cases, p.cur.result())
		p.cur = nil
	case p.cur == nil && t.Name.Local == "testsuite" && len(p.suites) > 0:
		p.suites = p.suites[:len(p.suites)-1]
	}
}

func (c *junitCase) result() TestCase {
	tc := c.tc
	switch {
	case c.errored:
		tc.Outcome = Errored
	case c.failure:
		tc.Outcome = Failed
	case c.skip:
		tc.Outcome = Skipped
	default:
		tc.Outcome = Passed
	}
	switch {
	case tc.Outcome.Failing() && c.output.Len() > 0:
		tc.Message = bounded(c.detail.String(), "\n\n[output]\n", strings.TrimSpace(c.output.String()))
	case tc.Outcome != Passed:
		tc.Message = c.detail.String()
	case c.flakies.Len() > 0:
		tc.Message = bounded("passed on a rerun after failing: ", c.flakies.String())
	}
	if tc.Outcome.Failing() && tc.Message == "" {
		tc.Message = "(no failure message)"
	}
	return tc
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// thousands matches "1,234" or "12,345,678": a comma used as a thousands
// separator rather than as a decimal comma ("0,5").
var thousands = regexp.MustCompile(`^[1-9][0-9]{0,2}(,[0-9]{3})+$`)

// maxSeconds keeps a float time within time.Duration.
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

// parseSeconds reads a time attribute in seconds: "1.5", "1,234.5" (grouped),
// "0,5" (decimal comma), "2s". Missing or unreadable times are 0: a report's
// timings are informational and must not reject its results.
func parseSeconds(s string) time.Duration {
	s = strings.TrimSuffix(strings.TrimSpace(s), "s")
	if s == "" {
		return 0
	}
	if strings.Contains(s, ",") {
		if strings.Contains(s, ".") || thousands.MatchString(s) {
			s = strings.ReplaceAll(s, ",", "")
		} else {
			s = strings.Replace(s, ",", ".", 1)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return secondsToDuration(f, err)
}

func secondsToDuration(f float64, err error) time.Duration {
	switch {
	case err != nil || math.IsNaN(f) || f <= 0:
		return 0
	case f >= maxSeconds:
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(math.Round(f * float64(time.Second)))
}
