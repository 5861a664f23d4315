package secrets

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParseFile: ParseFile never panics, accepts only valid names, and what
// it accepts survives a round trip through yaml.Marshal.
func FuzzParseFile(f *testing.F) {
	files, _ := filepath.Glob("testdata/parse/*.yaml")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("A: \"\\x00\\u00ff\"\nB: |-\n  x\n   y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		values, err := ParseFile("s.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for name := range values {
			if !ValidName(name) {
				t.Fatalf("accepted invalid name %q", name)
			}
		}
		again, err := yaml.Marshal(values)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := ParseFile("again.yaml", again)
		if err != nil {
			t.Fatalf("re-parsing %q: %v", again, err)
		}
		if !maps.Equal(values, back) {
			t.Fatalf("round trip changed the secrets:\n%q\n%q", values, back)
		}
	})
}

// FuzzWriter: whatever the chunking, the Writer writes MaskBytes(input); and
// when no pattern contains '*', Scan finds nothing in the masked output
// (every clear run of the output is a clear run of the input).
func FuzzWriter(f *testing.F) {
	f.Add([]byte("user hunter2-pass ok"), []byte{3, 1, 7}, "hunter2-pass", "pass-word")
	f.Add([]byte("aGVsbG8td29ybGQ= 68656c6c6f2d776f726c64"), []byte{1}, "hello-world", "")
	f.Add([]byte("abcabcabd"), []byte{2, 2, 2}, "abcabd", "cabc")
	f.Add([]byte("a\nline-one\r\nx"), []byte{0}, "line-one\r\nline-two", "e\r\nl")
	f.Fuzz(func(t *testing.T, in, chunks []byte, s1, s2 string) {
		m := NewMasker(map[string]string{"S1": s1, "S2": s2})
		want := m.MaskBytes(in)
		var sizes []int
		for rest, i := len(in), 0; rest > 0; i++ {
			n := len(in)
			if len(chunks) > 0 {
				n = int(chunks[i%len(chunks)])%17 + 1
			}
			n = min(n, rest)
			sizes = append(sizes, n)
			rest -= n
		}
		got := writeChunks(t, m, in, sizes)
		if !bytes.Equal(got, want) {
			t.Fatalf("chunks %v: Writer %q, MaskBytes %q", sizes, got, want)
		}
		if m.Empty() && !bytes.Equal(got, in) {
			t.Fatalf("empty masker changed %q to %q", in, got)
		}
		if slices.ContainsFunc(m.patterns, func(p pattern) bool { return strings.Contains(p.text, "*") }) {
			return
		}
		if hit, err := m.Scan(bytes.NewReader(got)); err != nil || hit != nil {
			t.Fatalf("masked output %q still holds %+v (err %v)", got, hit, err)
		}
	})
}
