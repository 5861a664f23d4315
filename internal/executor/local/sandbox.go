package local

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/slipway-ci/slipway/internal/executor"
)

// File descriptors bwrap inherits (ExtraFiles start at 3).
const (
	argsFD   = "3" // NUL-separated options: keeps env values off argv
	statusFD = "4" // --json-status-fd: the reaper's pid, then the exit code
)

// sandbox is the bwrap side of one job.
type sandbox struct {
	bwrap   string
	argv    []string
	args    *os.File // memfd holding the options
	statusW *os.File
	status  *os.File

	pid          atomic.Int64  // bwrap's reaper: pid 1 inside, pgid of the step
	pidKnown     chan struct{} // closed once pid is set or will never be
	exitReported atomic.Bool   // bwrap reported the step's exit: setup worked
	statusDone   chan struct{}
}

// baseArgs builds the sandbox every job shares; probe uses it alone.
func baseArgs(mode executor.SandboxMode) []string {
	a := []string{
		// Tied to the OS thread that forked bwrap: Go only ends threads
		// locked by a goroutine that exits locked, which Start never is.
		"--die-with-parent",
		// A session of its own detaches the step from slipway's terminal
		// and puts it in a process group that is not bwrap's, so SIGTERM
		// reaches the step without killing bwrap (which would SIGKILL it).
		"--new-session",
		"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
		"--cap-drop", "ALL",
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
		"--tmpfs", "/dev/shm",
	}
	if mode == executor.SandboxStrict {
		a = append(a, "--unshare-net")
	}
	return a
}

func newSandbox(bwrap string, job *executor.Job, sp spec) (*sandbox, error) {
	mounts, err := planMounts(job.Sandbox)
	if err != nil {
		return nil, err
	}
	opts := baseArgs(job.Sandbox.Mode)
	for _, m := range mounts {
		opts = append(opts, m.args()...)
	}
	opts = append(opts, "--chdir", job.Dir, "--json-status-fd", statusFD)
	for _, kv := range sp.env {
		k, v, _ := strings.Cut(kv, "=")
		opts = append(opts, "--setenv", k, v)
	}
	args, err := memfd(opts)
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		args.Close()
		return nil, fmt.Errorf("status pipe: %w", err)
	}
	argv := append([]string{"bwrap", "--args", argsFD, "--", sp.shell}, sp.argv[1:]...)
	return &sandbox{
		bwrap: bwrap, argv: argv, args: args, statusW: w, status: r,
		pidKnown: make(chan struct{}), statusDone: make(chan struct{}),
	}, nil
}

// memfd returns an anonymous file holding args for bwrap --args.
func memfd(args []string) (*os.File, error) {
	fd, err := unix.MemfdCreate("slipway-bwrap-args", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd for bwrap options: %w", err)
	}
	f := os.NewFile(uintptr(fd), "bwrap-args")
	var b strings.Builder
	for _, a := range args {
		b.WriteString(a)
		b.WriteByte(0)
	}
	if _, err := io.WriteString(f, b.String()); err != nil {
		f.Close()
		return nil, fmt.Errorf("write bwrap options: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("rewind bwrap options: %w", err)
	}
	return f, nil
}

// configure turns cmd (the unsandboxed command) into bwrap running it.
// bwrap starts with an empty environment: the job's comes through --setenv,
// and LD_PRELOAD or the like in Job.Env cannot reach bwrap itself, which
// runs with full capabilities while it builds the sandbox.
func (s *sandbox) configure(cmd *exec.Cmd) {
	cmd.Path = s.bwrap
	cmd.Args = s.argv
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{s.args, s.statusW}
}

// started closes the copies bwrap now holds.
func (s *sandbox) started() {
	s.args.Close()
	s.statusW.Close()
}

// close stops readStatus, or stands in for it when it never ran.
func (s *sandbox) close() { s.status.Close() }

// readStatus follows bwrap's JSON status documents until bwrap exits.
func (s *sandbox) readStatus() {
	defer close(s.statusDone)
	defer s.status.Close()
	known := false
	defer func() {
		if !known {
			close(s.pidKnown)
		}
	}()
	dec := json.NewDecoder(bufio.NewReader(s.status))
	for {
		var doc struct {
			ChildPID *int64 `json:"child-pid"`
			ExitCode *int   `json:"exit-code"`
		}
		if err := dec.Decode(&doc); err != nil {
			return
		}
		if doc.ChildPID != nil && !known && *doc.ChildPID > 1 {
			s.pid.Store(*doc.ChildPID)
			known = true
			close(s.pidKnown)
		}
		if doc.ExitCode != nil {
			s.exitReported.Store(true)
		}
	}
}

// stepStarted reports whether bwrap's reaper has forked the step; true
// when that cannot be told.
func (s *sandbox) stepStarted() bool {
	pid := strconv.FormatInt(s.pid.Load(), 10)
	b, err := os.ReadFile("/proc/" + pid + "/task/" + pid + "/children")
	if err != nil {
		return true
	}
	return len(bytes.TrimSpace(b)) > 0
}
