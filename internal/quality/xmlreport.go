package quality

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// xmlReport is what the XML report parsers (JUnit, Cobertura) share: the
// report's name and decoder, so every error names the file and line.
type xmlReport struct {
	name string
	dec  *xml.Decoder
}

func newXMLReport(name string, r io.Reader) xmlReport {
	dec := xml.NewDecoder(r)
	dec.CharsetReader = charsetReader
	return xmlReport{name, dec}
}

// each calls fn with every token of the report, up to its end.
func (p *xmlReport) each(fn func(xml.Token) error) error {
	for {
		tok, err := p.dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return p.xmlError(err)
		}
		if err := fn(tok); err != nil {
			return err
		}
	}
}

func (p *xmlReport) errorf(format string, args ...any) error {
	line, _ := p.dec.InputPos()
	return &ParseError{File: p.name, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *xmlReport) xmlError(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg := se.Msg
		if msg == "unexpected EOF" {
			msg = "unexpected end of file (truncated report?)"
		}
		return &ParseError{File: p.name, Line: se.Line, Msg: "invalid XML: " + msg, Err: err}
	}
	line, _ := p.dec.InputPos()
	return &ParseError{File: p.name, Line: line, Msg: "invalid XML: " + err.Error(), Err: err}
}
