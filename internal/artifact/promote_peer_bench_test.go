package artifact

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ci/slipway/internal/testtool"
)

// Knobs of BenchmarkPromoteVsCrane.
const (
	envPromoteSize = "SLIPWAY_BENCH_PROMOTE_SIZE" // bytes, or with a KiB/MiB/GiB suffix
	envPromoteReps = "SLIPWAY_BENCH_PROMOTE_REPS" // timed repetitions of each case per round
)

// BenchmarkPromoteVsCrane promotes one large artifact (1 GiB by default)
// within its repository and to fresh repositories, with Slipway and with
// `crane copy`, in the same run against the same real registry, and prints
// the median of each with the ratio crane/slipway. Promotion moves a
// manifest and mounts blobs, so its time must not follow the size.
func BenchmarkPromoteVsCrane(b *testing.B) {
	crane := testtool.Find(b, "crane", "v0.22.1")
	size, err := parseSize(envOr(envPromoteSize, "1GiB"))
	if err != nil {
		b.Fatalf("%s: %v", envPromoteSize, err)
	}
	reps, err := strconv.Atoi(envOr(envPromoteReps, "5"))
	if err != nil || reps < 1 {
		b.Fatalf("%s: want a positive count, got %q", envPromoteReps, os.Getenv(envPromoteReps))
	}
	ctx := context.Background()
	host := newRegistry(b)
	c, _ := testClient(b)
	src := repoRef(b, host, "ci/hello")
	start := time.Now()
	big := pushRandom(ctx, b, c, src, size, 1)
	push := time.Since(start)
	small := pushRandom(ctx, b, c, src, 1<<10, 2)

	p := &promoteBench{ctx: ctx, c: c, crane: crane, host: host, src: src, big: big, small: small}
	cases := []struct {
		name string
		run  func(b *testing.B, i int) time.Duration
	}{
		{"slipway same-repo", func(b *testing.B, _ int) time.Duration { return p.sameRepo(b, p.slipway) }},
		{"slipway cross-repo", func(b *testing.B, i int) time.Duration { return p.crossRepo(b, p.slipway, "slipway", i) }},
		{"crane same-repo", func(b *testing.B, _ int) time.Duration { return p.sameRepo(b, p.craneCopy) }},
		{"crane cross-repo", func(b *testing.B, i int) time.Duration { return p.crossRepo(b, p.craneCopy, "crane", i) }},
	}
	samples := make([][]time.Duration, len(cases))
	i := 0
	for b.Loop() {
		for range reps {
			i++ // interleaved, so drift in the machine hits every case alike
			for k, cs := range cases {
				samples[k] = append(samples[k], cs.run(b, i))
			}
		}
	}
	b.StopTimer()
	ms := make([]float64, len(cases))
	for k := range cases {
		ms[k] = median(samples[k])
	}
	b.ReportMetric(0, "ns/op") // a round of every case: not a figure anyone wants
	for k, unit := range []string{"slipway-same-ms", "slipway-cross-ms", "crane-same-ms", "crane-cross-ms"} {
		b.ReportMetric(ms[k], unit)
	}
	b.ReportMetric(ms[2]/ms[0], "crane/slipway-same")
	b.ReportMetric(ms[3]/ms[1], "crane/slipway-cross")
	var t strings.Builder
	fmt.Fprintf(&t, "promote %s artifact (push took %s), median of %d:\n", humanSize(size), push.Round(time.Millisecond), len(samples[0]))
	fmt.Fprintf(&t, "  %-12s %10s %10s %14s\n", "promotion", "slipway", "crane copy", "crane/slipway")
	fmt.Fprintf(&t, "  %-12s %8.1fms %8.1fms %13.1fx\n", "same-repo", ms[0], ms[2], ms[2]/ms[0])
	fmt.Fprintf(&t, "  %-12s %8.1fms %8.1fms %13.1fx", "cross-repo", ms[1], ms[3], ms[3]/ms[1])
	b.Log(t.String())
}

// promoteBench holds what every case of BenchmarkPromoteVsCrane shares.
type promoteBench struct {
	ctx        context.Context
	c          *Client
	crane      string
	host       string
	src        name.Repository
	big, small v1.Hash
}

// promoter copies the big artifact to dst and returns how long it took.
type promoter func(b *testing.B, dst name.Tag) time.Duration

// sameRepo moves the tag "production" from the small artifact to the big
// one, so that every timed promotion is a real tag move.
func (p *promoteBench) sameRepo(b *testing.B, promote promoter) time.Duration {
	b.Helper()
	dst := p.src.Tag("production")
	if _, err := p.c.Promote(p.ctx, p.src.Digest(p.small.String()), dst); err != nil {
		b.Fatal(err)
	}
	p.check(b, dst, p.small)
	d := promote(b, dst)
	p.check(b, dst, p.big)
	return d
}

// crossRepo promotes into a repository never used before, so every blob
// is mounted afresh.
func (p *promoteBench) crossRepo(b *testing.B, promote promoter, who string, i int) time.Duration {
	b.Helper()
	dst := repoRef(b, p.host, fmt.Sprintf("prod-%s-%d/hello", who, i)).Tag("production")
	d := promote(b, dst)
	p.check(b, dst, p.big)
	return d
}

func (p *promoteBench) slipway(b *testing.B, dst name.Tag) time.Duration {
	b.Helper()
	start := time.Now()
	if _, err := p.c.Promote(p.ctx, p.src.Digest(p.big.String()), dst); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

func (p *promoteBench) craneCopy(b *testing.B, dst name.Tag) time.Duration {
	b.Helper()
	cmd := exec.CommandContext(p.ctx, p.crane, "copy", "--insecure", p.src.Digest(p.big.String()).String(), dst.String())
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("crane copy: %v\n%s", err, out)
	}
	return d
}

// check fails unless tag names want: a promotion that did nothing must not
// pass for a fast one.
func (p *promoteBench) check(b *testing.B, tag name.Tag, want v1.Hash) {
	b.Helper()
	got, err := p.c.Resolve(p.ctx, tag)
	if err != nil {
		b.Fatal(err)
	}
	if got != want {
		b.Fatalf("%s names %s, want %s", tag, got, want)
	}
}

// pushRandom pushes an artifact of size incompressible bytes, in four
// files when it is large enough, streamed through disk so that no more than
// a buffer is held in memory, and returns its digest. The files are removed
// once pushed: the registry holds the only copy. Different seeds give
// different artifacts.
func pushRandom(ctx context.Context, b testing.TB, c *Client, repo name.Repository, size int64, seed uint64) v1.Hash {
	b.Helper()
	n := int64(1)
	if size >= 4<<20 {
		n = 4
	}
	dir := b.TempDir()
	var files []File
	for i := range n {
		part := size / n
		if i == n-1 {
			part = size - part*(n-1)
		}
		p := filepath.Join(dir, fmt.Sprintf("part-%d", i))
		writeRandom(b, p, part, seed<<8|uint64(i))
		files = append(files, File{Name: filepath.Base(p), Source: p})
	}
	img, err := BuildArtifact(files, BuildOptions{Created: created})
	if err != nil {
		b.Fatal(err)
	}
	d, err := c.Push(ctx, repo, img, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	return d
}

// writeRandom writes size bytes of a ChaCha8 stream: incompressible, fast,
// and the same for the same seed.
func writeRandom(b testing.TB, p string, size int64, seed uint64) {
	b.Helper()
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	if _, err := io.CopyN(f, rand.NewChaCha8(key), size); err != nil {
		f.Close()
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// parseSize reads a positive byte count, optionally with a KiB, MiB or GiB
// suffix.
func parseSize(s string) (int64, error) {
	num, shift := s, 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			num, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)>>shift {
		return 0, fmt.Errorf("invalid size %q: want bytes, or a number with KiB, MiB or GiB, up to 1 TiB", s)
	}
	return n << shift, nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d B", n)
}

// median returns the middle sample in milliseconds (the mean of the two
// middle ones for an even count).
func median(d []time.Duration) float64 {
	s := slices.Sorted(slices.Values(d))
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + m) / 2
	}
	return float64(m) / float64(time.Millisecond)
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: an error
	}{
		{"1GiB", 1 << 30},
		{"256MiB", 256 << 20},
		{"4KiB", 4 << 10},
		{"1048576", 1 << 20},
		{"1024GiB", 1 << 40},
		{"1025GiB", 0},
		{"0", 0},
		{"-1MiB", 0},
		{"1GB", 0},
		{"GiB", 0},
		{"", 0},
	} {
		got, err := parseSize(tc.in)
		if tc.want == 0 && err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", tc.in, got)
		}
		if tc.want != 0 && (err != nil || got != tc.want) {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		in   []time.Duration
		want float64
	}{
		{[]time.Duration{3 * ms}, 3},
		{[]time.Duration{9 * ms, 1 * ms, 5 * ms}, 5},
		{[]time.Duration{4 * ms, 1 * ms, 2 * ms, 100 * ms}, 3},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
