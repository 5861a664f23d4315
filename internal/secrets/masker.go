package secrets

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// Mask replaces each run of secret bytes in masked output.
const Mask = "***"

// MinLen is the shortest value that is masked: shorter ones would hide too
// much ordinary text. TooShort reports the secrets left unmasked.
const MinLen = 4

var maskBytes = []byte(Mask)

// Masker finds secret values in output. It is built once per run from the
// resolved secrets, is immutable and is safe for concurrent use.
//
// Each value is matched as itself; for a multi-line value, also each of its
// lines (without \r) of at least MinLen bytes; as standard and URL base64 in
// the three alignments it can have inside a longer encoded text (only the
// characters its own bits determine); URL-encoded (query and path escaping)
// and hex in lower and upper case. Every match is masked; overlapping or
// touching matches are masked as one.
type Masker struct {
	ac       *automaton
	patterns []pattern
	tooShort []string
}

type pattern struct {
	text   string
	secret string // name
	form   string
}

// Hit is where Scan found a secret.
type Hit struct {
	Secret string // name of the secret
	// Form is how the value appeared: "plain", "line" (one line of a
	// multi-line value), "base64", "base64url", "url" or "hex".
	Form   string
	Offset int64 // of the match's first byte in the stream
}

// NewMasker builds the masker for secrets (name → value).
func NewMasker(secrets map[string]string) *Masker {
	return newMasker(secrets, defaultDenseStates)
}

func newMasker(secrets map[string]string, denseStates int) *Masker {
	m := &Masker{}
	seen := map[string]bool{}
	add := func(name, form, text string) {
		if len(text) >= MinLen && !seen[text] {
			seen[text] = true
			m.patterns = append(m.patterns, pattern{text: text, secret: name, form: form})
		}
	}
	names := make([]string, 0, len(secrets))
	for n := range secrets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		v := secrets[n]
		if len(v) < MinLen {
			m.tooShort = append(m.tooShort, n)
			continue
		}
		for _, f := range forms(v) {
			add(n, f.form, f.text)
		}
	}
	texts := make([]string, len(m.patterns))
	for i, p := range m.patterns {
		texts[i] = p.text
	}
	m.ac = buildAutomaton(texts, denseStates)
	return m
}

type form struct{ form, text string }

// forms lists the texts that reveal v, the plain value first; duplicates and
// short texts are dropped by the caller.
func forms(v string) []form {
	out := []form{{"plain", v}}
	if strings.Contains(v, "\n") {
		for line := range strings.SplitSeq(v, "\n") {
			out = append(out, form{"line", strings.Trim(line, "\r")})
		}
	}
	for _, c := range base64Cores(base64.RawStdEncoding, v) {
		out = append(out, form{"base64", c})
	}
	for _, c := range base64Cores(base64.RawURLEncoding, v) {
		out = append(out, form{"base64url", c})
	}
	out = append(out,
		form{"url", url.QueryEscape(v)},
		form{"url", url.PathEscape(v)},
		form{"hex", hex.EncodeToString([]byte(v))},
		form{"hex", strings.ToUpper(hex.EncodeToString([]byte(v)))},
	)
	return out
}

// base64Cores returns, for each offset (0, 1, 2) at which v can start
// within a 3-byte group of a longer encoded text, the base64 characters that
// v's bits alone determine. Characters mixing in neighbouring bytes differ
// from text to text and are left out.
func base64Cores(enc *base64.Encoding, v string) []string {
	var out []string
	for a := range 3 {
		buf := make([]byte, a+len(v))
		copy(buf[a:], v)
		s := enc.EncodeToString(buf)
		first := (8*a + 5) / 6         // first character starting at or after v's first bit
		last := (8 * (a + len(v))) / 6 // characters ending at or before v's last bit
		if last-first >= MinLen {
			out = append(out, s[first:last])
		}
	}
	return out
}

// TooShort returns the names, sorted, of the secrets not masked because
// shorter than MinLen, so the run can warn about them.
func (m *Masker) TooShort() []string { return slices.Clone(m.tooShort) }

// Empty reports whether the masker masks nothing.
func (m *Masker) Empty() bool { return len(m.patterns) == 0 }

// MaskString is MaskBytes for a string.
func (m *Masker) MaskString(s string) string { return string(m.MaskBytes([]byte(s))) }

// MaskBytes returns a copy of b with every secret masked. A Writer given the
// same bytes, in any chunks, writes the same output.
func (m *Masker) MaskBytes(b []byte) []byte {
	var spans []span
	a, e := m.ac, uint32(0)
	for i, c := range b {
		e = a.next(e, c)
		if e&matchBit == 0 {
			continue
		}
		end := int64(i + 1)
		start := end - int64(a.matchLen[e>>idShift])
		for n := len(spans); n > 0 && spans[n-1].end >= start; n = len(spans) {
			start = min(start, spans[n-1].start)
			spans = spans[:n-1]
		}
		spans = append(spans, span{start, end})
	}
	out := make([]byte, 0, len(b))
	prev := int64(0)
	for _, s := range spans {
		out = append(out, b[prev:s.start]...)
		out = append(out, Mask...)
		prev = s.end
	}
	return append(out, b[prev:]...)
}

// Scan reads r until the first match of a secret, in any form, and returns
// it: the match that ends first, the longest if several end there. It
// returns nil at the end of r if there is none. It reads in fixed-size
// chunks, so it serves for files of any size.
func (m *Masker) Scan(r io.Reader) (*Hit, error) {
	buf := make([]byte, 32<<10)
	a, e := m.ac, uint32(0)
	var off int64
	for {
		n, err := r.Read(buf)
		for i, c := range buf[:n] {
			e = a.next(e, c)
			if e&matchBit != 0 {
				id := e >> idShift
				p := m.patterns[a.matchPat[id]]
				return &Hit{Secret: p.secret, Form: p.form, Offset: off + int64(i+1) - int64(a.matchLen[id])}, nil
			}
		}
		off += int64(n)
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("scanning for secrets: %w", err)
		}
	}
}
