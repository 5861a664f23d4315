package secrets

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// writeChunks writes in through a Writer in chunks of the given sizes, then
// flushes, and returns what reached the underlying writer.
func writeChunks(t testing.TB, m *Masker, in []byte, sizes []int) []byte {
	t.Helper()
	var out bytes.Buffer
	w := m.NewWriter(&out)
	for _, n := range sizes {
		k, err := w.Write(in[:n])
		if err != nil || k != n {
			t.Fatalf("Write(%d bytes) = %d, %v", n, k, err)
		}
		in = in[n:]
	}
	if len(in) != 0 {
		t.Fatalf("chunk sizes leave %d bytes", len(in))
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return out.Bytes()
}

func ones(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func randomChunks(rng *rand.Rand, n int) []int {
	var s []int
	for n > 0 {
		k := min(n, 1+rng.IntN(1+rng.IntN(64)))
		s = append(s, k)
		n -= k
	}
	return s
}

// TestWriterChunking checks that the Writer's output equals MaskBytes for
// every way of cutting the input: byte by byte, every split in two (and in
// three for short inputs), and random chunkings.
func TestWriterChunking(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, budget := range denseBudgets {
		for round := range 150 {
			m := newMasker(randomSecrets(rng), budget)
			in := randomInput(rng, m, 10+rng.IntN(60))
			want := m.MaskBytes(in)
			check := func(sizes []int) {
				t.Helper()
				if got := writeChunks(t, m, in, sizes); !bytes.Equal(got, want) {
					t.Fatalf("budget %d round %d, chunks %v\ninput  %q\nWriter %q\nwant   %q", budget, round, sizes, in, got, want)
				}
			}
			check(ones(len(in)))
			check([]int{len(in)})
			for i := 0; i <= len(in); i++ {
				check([]int{i, len(in) - i})
				if len(in) <= 30 {
					for j := i; j <= len(in); j++ {
						check([]int{i, j - i, len(in) - j})
					}
				}
			}
			for range 20 {
				check(randomChunks(rng, len(in)))
			}
		}
	}
}

// recorder keeps every Write it gets.
type recorder struct{ writes []string }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) String() string { return strings.Join(r.writes, "") }

// TestWriterHoldsBackOnlyPrefixes checks that after each Write everything
// that cannot start a secret has been passed on.
func TestWriterHoldsBackOnlyPrefixes(t *testing.T) {
	m := NewMasker(map[string]string{"PW": "hunter2-pass"})
	tests := []struct {
		writes []string
		want   []string // output after each write
	}{
		{[]string{"Password: "}, []string{"Password: "}},
		{[]string{"user hun", "ter2-pass ok"}, []string{"user ", "user *** ok"}},
		{[]string{"hunter2-pass"}, []string{"***"}},
		{[]string{"hunter2-pas", "t"}, []string{"", "hunter2-past"}},
		{[]string{"hhhunter2", "-pass\n"}, []string{"hh", "hh***\n"}},
	}
	for _, tt := range tests {
		var rec recorder
		w := m.NewWriter(&rec)
		for i, s := range tt.writes {
			if _, err := w.Write([]byte(s)); err != nil {
				t.Fatal(err)
			}
			if got := rec.String(); got != tt.want[i] {
				t.Errorf("writes %q: after write %d got %q, want %q", tt.writes, i, got, tt.want[i])
			}
		}
	}
}

// TestWriterHeldIsLongestPrefix checks, on inputs that hold no secret, that
// the Writer holds back exactly the longest suffix that begins a pattern.
func TestWriterHeldIsLongestPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	m := NewMasker(map[string]string{"A": "abcab", "B": "bca\nb", "C": "c=c=a"})
	tried := 0
	for tried < 100 {
		in := randomInput(rng, m, 30)
		if !bytes.Equal(naiveMask(m, in), in) {
			continue
		}
		tried++
		var rec recorder
		w := m.NewWriter(&rec)
		for i := range in {
			if _, err := w.Write(in[i : i+1]); err != nil {
				t.Fatal(err)
			}
			seen := in[:i+1]
			want := string(seen[:len(seen)-longestPatternPrefixSuffix(m, seen)])
			if got := rec.String(); got != want {
				t.Fatalf("after %q: wrote %q, want %q", seen, got, want)
			}
		}
	}
}

func longestPatternPrefixSuffix(m *Masker, in []byte) int {
	best := 0
	for _, p := range m.patterns {
		for n := min(len(p.text), len(in)); n > best; n-- {
			if strings.HasPrefix(p.text, string(in[len(in)-n:])) {
				best = n
				break
			}
		}
	}
	return best
}

func TestWriterFlush(t *testing.T) {
	m := NewMasker(map[string]string{"PW": "hunter2-pass"})
	var rec recorder
	w := m.NewWriter(&rec)
	if err := w.Flush(); err != nil || len(rec.writes) != 0 {
		t.Fatalf("Flush with nothing held: %v, writes %q", err, rec.writes)
	}
	w.Write([]byte("x hunter2"))
	if got := rec.String(); got != "x " {
		t.Fatalf("before Flush: %q", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := rec.String(); got != "x hunter2" {
		t.Fatalf("after Flush: %q, want the held prefix", got)
	}
	// A Flush ends the stream: no match across it.
	w.Write([]byte("-pass hunter2-pass"))
	w.Flush()
	if got := rec.String(); got != "x hunter2-pass ***" {
		t.Fatalf("after second stream: %q", got)
	}
	if n, err := w.Write(nil); n != 0 || err != nil {
		t.Errorf("Write(nil) = %d, %v", n, err)
	}
}

type failWriter struct {
	err   error
	calls int
}

func (f *failWriter) Write(p []byte) (int, error) {
	f.calls++
	return 0, f.err
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriterErrors(t *testing.T) {
	m := NewMasker(map[string]string{"PW": "hunter2-pass"})
	errPipe := errors.New("broken pipe")
	fw := &failWriter{err: errPipe}
	w := m.NewWriter(fw)
	if n, err := w.Write([]byte("hello hunter2-pass\n")); n != 0 || !errors.Is(err, errPipe) {
		t.Errorf("Write = %d, %v; want 0 and the underlying error", n, err)
	}
	calls := fw.calls
	if _, err := w.Write([]byte("more")); !errors.Is(err, errPipe) {
		t.Errorf("second Write: err = %v, want the sticky error", err)
	}
	if err := w.Flush(); !errors.Is(err, errPipe) {
		t.Errorf("Flush: err = %v, want the sticky error", err)
	}
	if fw.calls != calls {
		t.Errorf("underlying writer called again after failing")
	}
	if _, err := m.NewWriter(shortWriter{}).Write([]byte("hello")); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("short write: err = %v, want io.ErrShortWrite", err)
	}
}

// TestWriterLargeWrites checks big chunks go through without being gathered
// and still get masked at the edges of the internal buffer.
func TestWriterLargeWrites(t *testing.T) {
	const s = "hunter2-pass"
	m := NewMasker(map[string]string{"PW": s})
	var in bytes.Buffer
	for i := range 20000 {
		in.WriteString("line of output ")
		if i%997 == 0 {
			in.WriteString(s)
		}
		in.WriteByte('\n')
	}
	want := m.MaskBytes(in.Bytes())
	rng := rand.New(rand.NewPCG(11, 12))
	for _, size := range []int{bufSize - 1, bufSize, bufSize + 1, 3 * bufSize, in.Len()} {
		var sizes []int
		for n := in.Len(); n > 0; n -= min(n, size) {
			sizes = append(sizes, min(n, size))
		}
		if got := writeChunks(t, m, in.Bytes(), sizes); !bytes.Equal(got, want) {
			t.Errorf("chunks of %d: output differs from MaskBytes", size)
		}
	}
	if got := writeChunks(t, m, in.Bytes(), randomChunks(rng, in.Len())); !bytes.Equal(got, want) {
		t.Errorf("random chunks: output differs from MaskBytes")
	}
	if bytes.Contains(want, []byte(s)) {
		t.Error("MaskBytes left the secret")
	}
}

func TestWriterAllocs(t *testing.T) {
	m := NewMasker(map[string]string{"A": "hunter2-pass", "B": "tok_abcdefghijklmnop", "C": "0123456789abcdef"})
	chunk := []byte(strings.Repeat("log line with hunter2-pass and 0123456789abcdef and tok_abcdefgh\n", 100))
	w := m.NewWriter(io.Discard)
	w.Write(chunk) // let buffers grow
	if allocs := testing.AllocsPerRun(50, func() { w.Write(chunk) }); allocs != 0 {
		t.Errorf("Write allocates %.1f times per call, want 0", allocs)
	}
}

func TestEmptyMaskerWriter(t *testing.T) {
	var rec recorder
	w := NewMasker(nil).NewWriter(&rec)
	w.Write([]byte("Password: "))
	if got := rec.String(); got != "Password: " {
		t.Errorf("got %q", got)
	}
}
