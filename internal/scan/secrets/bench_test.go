package secrets

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/testtool"
)

// benchModule is the real source tree the benchmark scans, from the Go
// module cache (scripts/bench.sh downloads it); SLIPWAY_BENCH_SECRETS_TREE
// points at another tree.
const benchModule = "github.com/prometheus/prometheus@v0.316.0"

func benchTree(b *testing.B) string {
	b.Helper()
	if dir := os.Getenv("SLIPWAY_BENCH_SECRETS_TREE"); dir != "" {
		return dir
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		b.Skipf("go env GOMODCACHE: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), filepath.FromSlash(benchModule))
	if _, err := os.Stat(dir); err != nil {
		b.Skipf("%s not in the module cache (go mod download %s)", benchModule, benchModule)
	}
	return dir
}

// copyTree copies the regular files of src into dst (the module cache is
// read-only, and the incremental step edits a file), returning their bytes.
func copyTree(b *testing.B, src, dst string) int64 {
	b.Helper()
	var total int64
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, in)
		total += n
		return errorsJoin(err, f.Close())
	})
	if err != nil {
		b.Fatal(err)
	}
	return total
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// firstGoFile finds a file to edit for the incremental step.
func firstGoFile(b *testing.B, root string) string {
	b.Helper()
	var found string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && found == "" && strings.HasSuffix(p, ".go") && !strings.Contains(p, "vendor") {
			found = p
		}
		return nil
	})
	if found == "" {
		b.Skip("no Go file in the tree")
	}
	return found
}

// BenchmarkSecretsVsGitleaks scans one real tree with Slipway (cold cache)
// and with the gitleaks CLI, then edits one file and rescans with the warm
// cache. Run it with -benchtime 1x: each iteration prints a table.
func BenchmarkSecretsVsGitleaks(b *testing.B) {
	src := benchTree(b)
	bin := testtool.Find(b, "gitleaks", gitleaksCLIVersion)
	tree := b.TempDir()
	size := copyTree(b, src, tree)
	mb := float64(size) / 1e6
	for b.Loop() {
		cliStart := time.Now()
		want, ps := runGitleaks(b, bin, tree)
		cliWall, cliCPU := time.Since(cliStart), ps.UserTime()+ps.SystemTime()

		cache, err := NewFileCache(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		cpu0, start := cpuTime(), time.Now()
		rep, err := Scan(b.Context(), Options{Root: tree, Cache: cache})
		if err != nil {
			b.Fatal(err)
		}
		wall, cpu := time.Since(start), cpuTime()-cpu0

		edit := firstGoFile(b, tree)
		f, err := os.OpenFile(edit, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(f, "\n// edited %d\n", time.Now().UnixNano())
		f.Close()
		incStart := time.Now()
		inc, err := Scan(b.Context(), Options{Root: tree, Cache: cache})
		if err != nil {
			b.Fatal(err)
		}
		incWall := time.Since(incStart)

		fmt.Printf("secrets: tree %s, %d files scanned, %.1f MB\n", filepath.Base(src), rep.Scanned, mb)
		fmt.Printf("  %-22s %9s %9s %9s %9s\n", "", "wall", "cpu", "MB/s", "findings")
		fmt.Printf("  %-22s %9.2fs %8.2fs %9.1f %9d\n", "gitleaks "+gitleaksCLIVersion+" CLI", cliWall.Seconds(), cliCPU.Seconds(), mb/cliWall.Seconds(), len(want))
		fmt.Printf("  %-22s %9.2fs %8.2fs %9.1f %9d   (%.2fx gitleaks' wall time)\n", "slipway (cold cache)", wall.Seconds(), cpu.Seconds(), mb/wall.Seconds(), len(rep.Findings), wall.Seconds()/cliWall.Seconds())
		fmt.Printf("  %-22s %9.3fs %9s %9s %9d   (%.1f%% of the full scan; %d scanned, %d cached)\n", "slipway (1 file edited)", incWall.Seconds(), "", "", len(inc.Findings), 100*incWall.Seconds()/wall.Seconds(), inc.Scanned, inc.Cached)
		b.ReportMetric(wall.Seconds(), "slipway-s")
		b.ReportMetric(cliWall.Seconds(), "gitleaks-s")
		b.ReportMetric(100*incWall.Seconds()/wall.Seconds(), "incremental-%")
		if got := sortedLocs(locs(rep)); !slices.Equal(got, want) {
			b.Errorf("findings differ: slipway %d, gitleaks %d\nslipway:  %v\ngitleaks: %v", len(got), len(want), got, want)
		}
		if inc.Scanned != 1 {
			b.Errorf("incremental rescan scanned %d files, want 1", inc.Scanned)
		}
	}
}
