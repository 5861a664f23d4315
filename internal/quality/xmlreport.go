package quality

import (
	"encoding/xml"
	"errors"
	"fmt"
)

// xmlReport is what the XML report parsers (JUnit, Cobertura) share: the
// report's name and decoder, so every error names the file and line.
type xmlReport struct {
	name string
	dec  *xml.Decoder
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
