package quality

import (
	"strings"
	"unicode/utf8"
)

// MaxMessage bounds TestCase.Message in bytes, so a test that prints
// megabytes cannot bloat the store.
const MaxMessage = 4096

// maxName bounds Suite and Name; real names are far shorter, but a report is
// untrusted input and names are stored and indexed.
const maxName = 1024

const (
	excerptHead = 2048
	omitted     = "\n[… truncated …]\n"
	excerptTail = MaxMessage - excerptHead - len(omitted)
)

// excerpt keeps the start and the end of a text of any length in bounded
// memory: the start usually says what failed, the end how it ended (a panic,
// the last assertion).
type excerpt struct {
	head    []byte
	tail    []byte
	dropped bool
}

func (x *excerpt) WriteString(s string) {
	if n := min(excerptHead-len(x.head), len(s)); n > 0 {
		x.head = append(x.head, s[:n]...)
		s = s[n:]
	}
	if s == "" {
		return
	}
	if len(x.tail)+len(s) < 2*excerptTail {
		x.tail = append(x.tail, s...)
		return
	}
	// Keep only the last excerptTail bytes; compacting at twice that size
	// keeps appends amortised O(1).
	if len(s) >= excerptTail {
		x.tail = append(x.tail[:0], s[len(s)-excerptTail:]...)
	} else {
		n := copy(x.tail, x.tail[len(x.tail)-(excerptTail-len(s)):])
		x.tail = append(x.tail[:n], s...)
	}
	x.dropped = true
}

func (x *excerpt) Len() int { return len(x.head) + len(x.tail) }

// String returns the excerpt as valid UTF-8 of at most MaxMessage bytes,
// without surrounding blank lines.
func (x *excerpt) String() string {
	head, tail := string(x.head), string(x.tail)
	dropped := x.dropped
	if extra := len(tail) - excerptTail; extra > 0 && (dropped || len(head)+len(tail) > MaxMessage) {
		tail, dropped = tail[extra:], true
	}
	if !dropped {
		return clean(head + tail)
	}
	return clean(trimRuneEnd(head) + omitted + trimRuneStart(tail))
}

// bounded joins parts into one message of at most MaxMessage bytes.
func bounded(parts ...string) string {
	var x excerpt
	for _, p := range parts {
		x.WriteString(p)
	}
	return x.String()
}

// clean makes s safe to store: valid UTF-8, no NUL (PostgreSQL rejects it in
// text) and no leading or trailing blank lines.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = strings.ReplaceAll(s, "\x00", "")
	return strings.TrimRight(strings.TrimLeft(s, "\r\n"), " \t\r\n")
}

// cleanName sanitizes a suite or test name and bounds its length.
func cleanName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxName {
		s = trimRuneEnd(s[:maxName])
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// trimRuneEnd drops a rune cut in half at the end of s.
func trimRuneEnd(s string) string {
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				return s[:i]
			}
			return s
		}
	}
	return s
}

// trimRuneStart drops continuation bytes of a rune cut in half at the start of s.
func trimRuneStart(s string) string {
	for i := 0; i < len(s) && i < utf8.UTFMax; i++ {
		if utf8.RuneStart(s[i]) {
			return s[i:]
		}
	}
	return s
}
