package quality

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// charsetReader lets encoding/xml read the non-UTF-8 encodings that old Java
// and .NET tools declare. Each byte maps to one rune in all of them.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf8":
		return r, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1",
		"us-ascii", "ascii":
		return &singleByteReader{r: bufio.NewReader(r)}, nil
	case "windows-1252", "cp1252":
		return &singleByteReader{r: bufio.NewReader(r), table: &cp1252}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (use UTF-8)", label)
}

// singleByteReader decodes Latin-1 (table == nil) or a Windows code page
// whose bytes 0x80-0x9F differ from Latin-1, into UTF-8.
type singleByteReader struct {
	r       *bufio.Reader
	table   *[32]rune
	pending []byte
}

func (s *singleByteReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.pending) > 0 {
			c := copy(p[n:], s.pending)
			n += c
			s.pending = s.pending[c:]
			continue
		}
		b, err := s.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		r := rune(b)
		if s.table != nil && b >= 0x80 && b < 0xA0 {
			r = s.table[b-0x80]
		}
		s.pending = utf8.AppendRune(s.pending[:0], r)
	}
	return n, nil
}

// cp1252 maps bytes 0x80-0x9F of Windows-1252; unassigned bytes keep their
// Latin-1 (C1 control) meaning.
var cp1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}
