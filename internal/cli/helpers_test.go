package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testLimit bounds every wait in these tests; reaching it is a failure.
const testLimit = 10 * time.Second

// TestMain points the XDG directories at an empty temp dir: config.Load
// reads XDG_CONFIG_HOME from the process environment, not from the
// environ slice given to Run, and a developer's own config must not leak in.
func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "slipway-cli-test-")
	if err != nil {
		panic(err)
	}
	for _, k := range []string{"XDG_CONFIG_HOME", "XDG_STATE_HOME"} {
		os.Setenv(k, filepath.Join(dir, k))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sandbox is one isolated slipway environment: its own state dir, config
// dir and home, and a checkout directory for .slipway.yaml.
type sandbox struct {
	state, config, home, dir string
	extra                    []string
}

func newSandbox(tb testing.TB) *sandbox {
	tb.Helper()
	root := tb.TempDir()
	s := &sandbox{state: filepath.Join(root, "state"), config: filepath.Join(root, "config"),
		home: filepath.Join(root, "home"), dir: filepath.Join(root, "project")}
	for _, d := range []string{s.config, s.home, s.dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

func (s *sandbox) environ() []string {
	env := []string{"SLIPWAY_STATE_DIR=" + s.state, "XDG_CONFIG_HOME=" + s.config, "HOME=" + s.home,
		"PATH=" + os.Getenv("PATH"), "NO_COLOR=1"}
	return append(env, s.extra...)
}

// pipeline writes the checkout's .slipway.yaml.
func (s *sandbox) pipeline(tb testing.TB, spec string) {
	tb.Helper()
	writeFile(tb, filepath.Join(s.dir, ".slipway.yaml"), spec)
}

// result is what one invocation of the command line did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs slipway in-process with args.
func (s *sandbox) run(tb testing.TB, args ...string) result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testLimit)
	defer cancel()
	return s.runCtx(tb, ctx, args...)
}

func (s *sandbox) runCtx(tb testing.TB, ctx context.Context, args ...string) result {
	tb.Helper()
	var out, errb syncBuffer
	code := Run(ctx, args, &out, &errb, s.environ())
	if ctx.Err() == context.DeadlineExceeded {
		tb.Fatalf("slipway %v: still running after %v", args, testLimit)
	}
	return result{code, out.String(), errb.String()}
}

// runPipeline runs the checkout's pipeline without sandbox.
func (s *sandbox) runPipeline(tb testing.TB, extra ...string) result {
	tb.Helper()
	return s.run(tb, append([]string{"run", "-C", s.dir, "--sandbox", "off"}, extra...)...)
}

func writeFile(tb testing.TB, path, data string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// syncBuffer collects output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
