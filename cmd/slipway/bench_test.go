package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Benchmarks compare slipway with the peer or limit the foundation issue
// names, side by side in one run, and report the ratio. They only report:
// no timing decides pass or fail. Run them with `make bench`.
//
// Work happens under SLIPWAY_BENCH_DIR (default ~/.cache/slipway-bench),
// on the file system a state dir normally lives on, rather than /tmp.

func benchDir(b *testing.B, name string) string {
	b.Helper()
	root := os.Getenv("SLIPWAY_BENCH_DIR")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache", "slipway-bench")
	}
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	return dir
}

// timeCmd runs a command and returns its wall time.
func timeCmd(b *testing.B, dir string, env []string, name string, args ...string) time.Duration {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return time.Since(start)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func benchEnv(b *testing.B, state string, extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LANG=C.UTF-8",
		"SLIPWAY_STATE_DIR=" + state, "XDG_CONFIG_HOME=" + b.TempDir()}, extra...)
}

// dag writes the same 200-step graph (groups of a root fanning out to six
// chains of three, fanning back in, each group after the previous) as a
// pipeline and as a Makefile.
func dag(b *testing.B, dir string, n int) {
	var spec, mk strings.Builder
	spec.WriteString("steps:\n")
	var all []string
	add := func(name string, needs ...string) bool {
		if len(all) == n {
			return false
		}
		all = append(all, name)
		fmt.Fprintf(&spec, "  %s:\n    run: \"true\"\n", name)
		deps := strings.TrimSpace(strings.Join(needs, " "))
		if deps != "" {
			fmt.Fprintf(&spec, "    needs: [%s]\n", strings.Join(strings.Fields(deps), ", "))
		}
		fmt.Fprintf(&mk, "%s: %s\n\t@true\n", name, deps)
		return true
	}
	prev := ""
	for g := 0; len(all) < n; g++ {
		root := fmt.Sprintf("g%d", g)
		if !add(root, prev) {
			break
		}
		var ends []string
		for c := 0; c < 6; c++ {
			last := root
			for k := 0; k < 3; k++ {
				name := fmt.Sprintf("s%d_%d_%d", g, c, k)
				if add(name, last) {
					last = name
				}
			}
			ends = append(ends, last)
		}
		prev = fmt.Sprintf("j%d", g)
		add(prev, ends...)
	}
	header := ".PHONY: all " + strings.Join(all, " ") + "\nall: " + strings.Join(all, " ") + "\n"
	os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte(spec.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte(header+mk.String()), 0o644)
}

// BenchmarkDAG200VsMake: a 200-step DAG of no-op steps through slipway
// --parallel 2 (sandbox off, then on) versus make -j2 on the same graph.
// Goal: slipway (sandbox off) at most 1.5x make.
func BenchmarkDAG200VsMake(b *testing.B) {
	if _, err := exec.LookPath("make"); err != nil {
		b.Skip("make is not installed")
	}
	dir := benchDir(b, "dag200")
	dag(b, dir, 200)
	env := benchEnv(b, filepath.Join(dir, ".state"))
	run := func(sandbox string) time.Duration {
		return timeCmd(b, dir, env, binary, "run", "--parallel", "2", "--sandbox", sandbox, "-q", "--no-cache")
	}
	run("off") // creates the state dir
	var slip, boxed, mk []time.Duration
	for b.Loop() {
		slip = append(slip, run("off"))
		boxed = append(boxed, run("on"))
		mk = append(mk, timeCmd(b, dir, env, "make", "-j2", "-s", "all"))
	}
	s, m := median(slip), median(mk)
	b.ReportMetric(float64(s.Microseconds())/1000, "slipway-ms")
	b.ReportMetric(float64(median(boxed).Microseconds())/1000, "sandboxed-ms")
	b.ReportMetric(float64(m.Microseconds())/1000, "make-ms")
	b.ReportMetric(float64(s)/float64(m), "ratio")
}

// BenchmarkCachedRerunVsSha256sum: a fully cached re-run of a pipeline
// whose cache inputs are a large real source tree (modernc.org/libc from the
// module cache, ~96 MB) versus sha256sum over the same files. Goal: at most
// 1.2x.
func BenchmarkCachedRerunVsSha256sum(b *testing.B) {
	dir := benchDir(b, "cached")
	src := filepath.Join(dir, "src")
	if _, err := os.Stat(src); err != nil {
		out, err := exec.Command("go", "mod", "download", "-json", "modernc.org/libc@v1.80.2").Output()
		if err != nil {
			b.Skipf("module cache: %v", err)
		}
		modDir := jsonField(string(out), "Dir")
		if err := exec.Command("cp", "-r", modDir, src).Run(); err != nil {
			b.Fatal(err)
		}
		exec.Command("chmod", "-R", "u+w", src).Run()
	}
	os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte(`
steps:
  build:
    run: echo built > out.txt
    outputs: [out.txt]
    cache: {inputs: ["src/**"]}
`), 0o644)
	env := benchEnv(b, filepath.Join(dir, ".state"))
	timeCmd(b, dir, env, binary, "run", "-q") // fills the cache
	var slip, sum []time.Duration
	for b.Loop() {
		slip = append(slip, timeCmd(b, dir, env, binary, "run", "-q"))
		sum = append(sum, timeCmd(b, dir, env, "sh", "-c", "find src -type f -print0 | xargs -0 sha256sum > /dev/null"))
	}
	s, m := median(slip), median(sum)
	b.ReportMetric(float64(s.Microseconds())/1000, "slipway-ms")
	b.ReportMetric(float64(m.Microseconds())/1000, "sha256sum-ms")
	b.ReportMetric(float64(s)/float64(m), "ratio")
}

// BenchmarkLogThroughput: a step printing 200 MB with three secrets
// declared, through the whole log path (masking, storage; terminal off)
// versus the same command writing to a file. Goal: at least 100 MB/s.
func BenchmarkLogThroughput(b *testing.B) {
	const size = 200_000_000
	dir := benchDir(b, "logs")
	gen := fmt.Sprintf(`yes "2026-12-04T10:00:00Z INFO request served path=/api/v1/items status=200 bytes=5120" | head -c %d`, size)
	os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte(fmt.Sprintf(`
steps:
  loud:
    secrets: [TOKEN_A, TOKEN_B, TOKEN_C]
    sandbox: off
    run: '%s'
`, gen)), 0o644)
	env := benchEnv(b, filepath.Join(dir, ".state"), "SLIPWAY_SECRET_TOKEN_A=ghp_16C7e42F292c6912E7710c838347Ae178B4a",
		"SLIPWAY_SECRET_TOKEN_B=xoxb-2837465-sdfkjh23478sdfkjh", "SLIPWAY_SECRET_TOKEN_C=AKIAIOSFODNN7EXAMPLE")
	var slip, file []time.Duration
	for b.Loop() {
		slip = append(slip, timeCmd(b, dir, env, binary, "run", "-q", "--no-cache"))
		file = append(file, timeCmd(b, dir, env, "sh", "-c", gen+" > "+filepath.Join(dir, "plain.log")))
		b.StopTimer()
		timeCmd(b, dir, env, binary, "prune", "--max-runs", "1")
		b.StartTimer()
	}
	mbps := func(d time.Duration) float64 { return size / 1e6 / d.Seconds() }
	s, f := median(slip), median(file)
	b.ReportMetric(mbps(s), "slipway-MB/s")
	b.ReportMetric(mbps(f), "file-MB/s")
	b.ReportMetric(float64(s)/float64(f), "ratio")
}

func jsonField(js, field string) string {
	i := strings.Index(js, `"`+field+`": "`)
	if i < 0 {
		return ""
	}
	rest := js[i+len(field)+5:]
	return rest[:strings.Index(rest, `"`)]
}
