package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// denseBudgets runs the masking tests both on the normal automaton and on
// one whose states are all sparse but the root.
var denseBudgets = []int{defaultDenseStates, 1}

func TestMaskForms(t *testing.T) {
	const s = "p@ss w/rd+Secret"
	hexLower := hex.EncodeToString([]byte(s))
	tests := []struct {
		name, in, want string
	}{
		{"plain", "password is " + s + ".", "password is ***."},
		{"plain twice", s + " and " + s, "*** and ***"},
		{"query escape", "GET /login?pw=" + url.QueryEscape(s) + "&x=1", "GET /login?pw=***&x=1"},
		{"path escape", "GET /u/" + url.PathEscape(s) + "/x", "GET /u/***/x"},
		{"hex lower", "key=" + hexLower, "key=***"},
		{"hex upper", "KEY=" + strings.ToUpper(hexLower) + "!", "KEY=***!"},
		{"base64 alone", "b64: " + base64.StdEncoding.EncodeToString([]byte(s)), "b64: ***A=="}, // the last character mixes in padding bits,
		{"no secret", "nothing to see here", "nothing to see here"},
		{"near miss", s[:len(s)-1] + "X", s[:len(s)-1] + "X"},
	}
	for _, budget := range denseBudgets {
		m := newMasker(map[string]string{"PW": s}, budget)
		for _, tt := range tests {
			if got := m.MaskString(tt.in); got != tt.want {
				t.Errorf("budget %d, %s: MaskString(%q) = %q, want %q", budget, tt.name, tt.in, got, tt.want)
			}
		}
	}
}

// TestMaskBase64Alignments encodes the secret inside longer texts, at every
// offset within a 3-byte group, with both alphabets, and expects exactly the
// characters that the secret's bits determine to be masked.
func TestMaskBase64Alignments(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	secrets := []string{"abcd", "hunter2!", "\xff\xfe\xfd\xfc\xfb?>", "tok_" + strings.Repeat("Zq9", 11)}
	encs := map[string]*base64.Encoding{"std": base64.StdEncoding, "url": base64.URLEncoding, "raw": base64.RawStdEncoding}
	for _, s := range secrets {
		m := NewMasker(map[string]string{"S": s})
		for encName, enc := range encs {
			for prefix := range 7 {
				for suffix := range 4 {
					pre, suf := randBytes(rng, prefix), randBytes(rng, suffix)
					text := enc.EncodeToString(bytes.Join([][]byte{pre, []byte(s), suf}, nil))
					first := (8*prefix + 5) / 6
					last := 8 * (prefix + len(s)) / 6
					want := text[:first] + Mask + text[last:]
					if last-first < MinLen {
						want = text
					}
					if got := m.MaskString(text); got != want {
						t.Errorf("%q %s prefix %d suffix %d: MaskString(%q) = %q, want %q", s, encName, prefix, suffix, text, got, want)
					}
				}
			}
		}
	}
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

func TestMaskCases(t *testing.T) {
	tests := []struct {
		name     string
		secrets  map[string]string
		in, want string
	}{
		{"overlapping secrets", map[string]string{"A": "abcdef", "B": "defghi"}, "xabcdefghiy", "x***y"},
		{"touching matches are one run", map[string]string{"A": "abcd"}, "abcdabcd abcd", "*** ***"},
		{"overlapping repeats", map[string]string{"A": "aaaa"}, "aaaaaaa b", "*** b"},
		{"prefix secret alone", map[string]string{"A": "abcd", "B": "abcdefgh"}, "abcdxyz", "***xyz"},
		{"prefix secret, longer one", map[string]string{"A": "abcd", "B": "abcdefgh"}, "abcdefgh!", "***!"},
		{"prefix secret, longer one cut", map[string]string{"A": "abcd", "B": "abcdefgh"}, "abcdefg!", "***efg!"},
		{"secret inside another", map[string]string{"A": "cdef", "B": "abcdefgh"}, "abcdefgh", "***"},
		{"longer match starting earlier", map[string]string{"A": "bcde", "B": "fghi", "C": "abcdefghij"}, "abcdefghij!", "***!"},
		{"touching matches under a longer prefix", map[string]string{"A": "bcde", "B": "fghi", "C": "abcdefghij"}, "abcdefghi!", "a***!"},
		{"too short is not masked", map[string]string{"A": "abc", "B": ""}, "abc", "abc"},
		{"multi-line value", map[string]string{"K": "line-one\nline-two\r\nab\n"}, "line-one\nline-two\r\nab\n", "***"},
		{"multi-line value, one line", map[string]string{"K": "line-one\nline-two\r\nab\n"}, "got line-two.", "got ***."},
		{"multi-line value, short line kept", map[string]string{"K": "line-one\nline-two\r\nab\n"}, "ab", "ab"},
		{"trailing newline value", map[string]string{"K": "token-xyz\n"}, "echo token-xyz", "echo ***"},
		{"binary value", map[string]string{"K": "\x00\x01\x02\x03\xff"}, "a\x00\x01\x02\x03\xffb", "a***b"},
		{"mask-like text", map[string]string{"K": "****"}, "a*****b", "a***b"},
		{"empty input", map[string]string{"K": "abcd"}, "", ""},
	}
	for _, budget := range denseBudgets {
		for _, tt := range tests {
			m := newMasker(tt.secrets, budget)
			if got := m.MaskString(tt.in); got != tt.want {
				t.Errorf("budget %d, %s: MaskString(%q) = %q, want %q", budget, tt.name, tt.in, got, tt.want)
			}
			if got := string(writeChunks(t, m, []byte(tt.in), ones(len(tt.in)))); got != tt.want {
				t.Errorf("budget %d, %s: Writer byte by byte = %q, want %q", budget, tt.name, got, tt.want)
			}
		}
	}
}

func TestTooShortAndEmpty(t *testing.T) {
	m := NewMasker(map[string]string{"C": "abc", "A": "", "B": "abcd", "D": "x"})
	if diff := cmp.Diff([]string{"A", "C", "D"}, m.TooShort()); diff != "" {
		t.Errorf("TooShort (-want +got):\n%s", diff)
	}
	if m.Empty() {
		t.Error("Empty() = true with a maskable secret")
	}
	empty := NewMasker(map[string]string{"A": "abc"})
	if !empty.Empty() {
		t.Error("Empty() = false with only short secrets")
	}
	if got := empty.MaskString("abc abcd"); got != "abc abcd" {
		t.Errorf("empty masker changed input: %q", got)
	}
	if !NewMasker(nil).Empty() {
		t.Error("NewMasker(nil) is not empty")
	}
}

func TestPatterns(t *testing.T) {
	m := NewMasker(map[string]string{"A": "ab+d", "B": "ab+d"})
	got := map[string]string{}
	for _, p := range m.patterns {
		if p.secret != "A" {
			t.Errorf("pattern %q labelled %q, want the first name A", p.text, p.secret)
		}
		got[p.text] = p.form
	}
	want := map[string]string{
		"ab+d":     "plain",
		"ab%2Bd":   "url", // QueryEscape; PathEscape keeps '+'
		"61622b64": "hex",
		"61622B64": "hex",
	}
	// The base64 cores, from the offsets of the first and last characters
	// that only the value's bits determine.
	for a := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, a), "ab+d"...))
		first, last := (8*a+5)/6, (8*(a+4))/6
		want[enc[first:last]] = "base64"
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("patterns (-want +got):\n%s", diff)
	}
}

// TestMaskBytesOracle compares MaskBytes with a brute-force search over
// inputs rich in partial and overlapping matches.
func TestMaskBytesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, budget := range denseBudgets {
		for round := range 300 {
			secrets := randomSecrets(rng)
			m := newMasker(secrets, budget)
			in := randomInput(rng, m, 200)
			got, want := m.MaskBytes(in), naiveMask(m, in)
			if !bytes.Equal(got, want) {
				t.Fatalf("budget %d round %d, secrets %q\ninput %q\nMaskBytes %q\nwant      %q", budget, round, secrets, in, got, want)
			}
		}
	}
}

// naiveMask masks every occurrence of every pattern by direct search.
func naiveMask(m *Masker, in []byte) []byte {
	covered := make([]bool, len(in))
	for _, p := range m.patterns {
		for i := 0; i+len(p.text) <= len(in); i++ {
			if string(in[i:i+len(p.text)]) == p.text {
				for j := i; j < i+len(p.text); j++ {
					covered[j] = true
				}
			}
		}
	}
	var out []byte
	for i := 0; i < len(in); i++ {
		if !covered[i] {
			out = append(out, in[i])
			continue
		}
		out = append(out, Mask...)
		for i+1 < len(in) && covered[i+1] {
			i++
		}
	}
	return out
}

// randomSecrets draws 1–4 secrets over a small alphabet, so they share
// prefixes, suffixes and substrings.
func randomSecrets(rng *rand.Rand) map[string]string {
	const alphabet = "abc\n=*"
	out := map[string]string{}
	for i := range 1 + rng.IntN(4) {
		b := make([]byte, 2+rng.IntN(9))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		out[string(rune('A'+i))] = string(b)
	}
	return out
}

// randomInput concatenates pieces of patterns, whole patterns and noise.
func randomInput(rng *rand.Rand, m *Masker, n int) []byte {
	var out []byte
	for len(out) < n {
		switch k := rng.IntN(4); {
		case k < 2 && len(m.patterns) > 0:
			p := m.patterns[rng.IntN(len(m.patterns))].text
			i := rng.IntN(len(p))
			j := i + rng.IntN(len(p)-i+1)
			if k == 0 {
				i, j = 0, len(p)
			}
			out = append(out, p[i:j]...)
		default:
			out = append(out, "abc\n=*x"[rng.IntN(7)])
		}
	}
	return out
}

func TestScan(t *testing.T) {
	const s = "hunter2-value"
	m := NewMasker(map[string]string{"DB": s, "SHORT": "ab"})
	hexS := hex.EncodeToString([]byte(s))
	tests := []struct {
		name string
		in   string
		want *Hit
	}{
		{"none", strings.Repeat("clean log line\n", 5000), nil},
		{"plain", "x=" + s, &Hit{Secret: "DB", Form: "plain", Offset: 2}},
		{"hex past the first chunk", strings.Repeat(".", 40000) + hexS, &Hit{Secret: "DB", Form: "hex", Offset: 40000}},
		{"base64", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(s)), &Hit{Secret: "DB", Form: "base64", Offset: 21}},
		{"url", "?pw=" + url.QueryEscape(s+" "), &Hit{Secret: "DB", Form: "plain", Offset: 4}},
		{"first of two", "a " + hexS + " " + s, &Hit{Secret: "DB", Form: "hex", Offset: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.txt")
			if err := os.WriteFile(path, []byte(tt.in), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := m.Scan(f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Scan (-want +got):\n%s", diff)
			}
		})
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestScanReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	_, err := NewMasker(map[string]string{"A": "abcd"}).Scan(failingReader{errDisk})
	if !errors.Is(err, errDisk) {
		t.Errorf("err = %v, want it to wrap the read error", err)
	}
}

func TestLargeSecret(t *testing.T) {
	// A PEM-sized value: most of its automaton is sparse.
	rng := rand.New(rand.NewPCG(5, 6))
	key := "-----BEGIN PRIVATE KEY-----\n"
	for range 50 {
		key += base64.StdEncoding.EncodeToString(randBytes(rng, 48)) + "\n"
	}
	key += "-----END PRIVATE KEY-----\n"
	m := NewMasker(map[string]string{"KEY": key})
	if uint32(len(m.ac.depth)) <= m.ac.nDense {
		t.Fatalf("%d states, all dense: the test does not reach sparse states", len(m.ac.depth))
	}
	lines := strings.Split(key, "\n")
	in := "cat key:\n" + key + "line 7: " + lines[7] + "\nhex: " + hex.EncodeToString([]byte(key)) + "\n"
	want := "cat key:\n***line 7: ***\nhex: ***\n"
	if got := m.MaskString(in); got != want {
		t.Errorf("MaskString = %q, want %q", got, want)
	}
	if got := string(writeChunks(t, m, []byte(in), randomChunks(rng, len(in)))); got != want {
		t.Errorf("Writer = %q, want %q", got, want)
	}
}
