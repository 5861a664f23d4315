package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slipway-ci/slipway/internal/executor"
)

// Options configures an Executor.
type Options struct {
	// Bwrap is the path to bubblewrap: "" looks it up on PATH, "-" never
	// sandboxes (sandboxed jobs then fail to start).
	Bwrap string
}

// Executor runs jobs as local processes. It is safe for concurrent use.
type Executor struct {
	bwrap    string // resolved path; "" when unavailable
	bwrapErr error  // why bwrap is unavailable
	boot     string // boot id, to ignore Refs from before a reboot

	probeMu  sync.Mutex
	probed   bool
	probeErr error
}

var _ executor.Executor = (*Executor)(nil)

// New returns an Executor. It does not fail: a missing bwrap only makes
// sandboxed jobs fail to start (see SandboxAvailable).
func New(opts Options) *Executor {
	e := &Executor{boot: bootID()}
	switch opts.Bwrap {
	case "-":
		e.bwrapErr = errors.New("sandboxing is disabled")
	case "":
		e.bwrap, e.bwrapErr = exec.LookPath("bwrap")
		if e.bwrapErr != nil {
			e.bwrap = ""
			e.bwrapErr = fmt.Errorf("bwrap (bubblewrap) not found on PATH: %w", e.bwrapErr)
		}
	default:
		e.bwrap = opts.Bwrap
	}
	return e
}

// Name returns "local".
func (e *Executor) Name() string { return "local" }

// SandboxAvailable reports whether sandboxed jobs can run: bwrap exists and
// can build a sandbox on this machine. The first call runs bwrap once.
func (e *Executor) SandboxAvailable() bool {
	return e.CheckSandbox(context.Background()) == nil
}

// CheckSandbox runs bwrap once (the result is kept) and says why sandboxed
// jobs cannot run, or nil when they can.
func (e *Executor) CheckSandbox(ctx context.Context) error {
	if e.bwrap == "" {
		return e.bwrapErr
	}
	e.probeMu.Lock()
	defer e.probeMu.Unlock()
	if !e.probed {
		err := probe(ctx, e.bwrap)
		if ctx.Err() != nil {
			return err // not a verdict on bwrap: try again next time
		}
		e.probed, e.probeErr = true, err
	}
	return e.probeErr
}

// probe runs a trivial command in a sandbox built like a job's.
func probe(ctx context.Context, bwrap string) error {
	args := append(baseArgs(executor.SandboxOn), "--", bwrap, "--version")
	cmd := exec.CommandContext(ctx, bwrap, args...)
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("bwrap cannot build a sandbox here: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Start launches job. ctx only bounds starting; cancel through Wait.
func (e *Executor) Start(ctx context.Context, job *executor.Job) (executor.Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local: start job %s: %w", job.ID, err)
	}
	p, err := e.start(job)
	if err != nil {
		return nil, fmt.Errorf("local: start job %s: %w", job.ID, executorError{err})
	}
	return p, nil
}

func (e *Executor) start(job *executor.Job) (*process, error) {
	spec, err := newSpec(job)
	if err != nil {
		return nil, err
	}
	sandboxed := job.Sandbox.Mode != executor.SandboxOff
	if sandboxed && e.bwrap == "" {
		return nil, fmt.Errorf("sandbox %s requested: %w", job.Sandbox.Mode, e.bwrapErr)
	}
	out, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	defer w.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(w.Fd()), &st); err != nil {
		out.Close()
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	cmd := &exec.Cmd{
		Path:        spec.shell,
		Args:        spec.argv,
		Env:         spec.env,
		Dir:         job.Dir,
		Stdout:      w,
		Stderr:      w,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	var sb *sandbox
	if sandboxed {
		if sb, err = newSandbox(e.bwrap, job, spec); err != nil {
			out.Close()
			return nil, err
		}
		sb.configure(cmd)
	}
	p, err := launch(cmd, out, sb, job)
	if err != nil {
		return nil, err
	}
	p.ref = ref{PGID: p.pgid, Start: p.startTicks, Boot: e.boot, Pipe: st.Ino}.String()
	return p, nil
}

// executorError marks a failure of the executor (errors.Is(err,
// executor.ErrExecutor)) without repeating it in the message.
type executorError struct{ err error }

func (e executorError) Error() string   { return e.err.Error() }
func (e executorError) Unwrap() []error { return []error{e.err, executor.ErrExecutor} }

// drainTimeout bounds how long output is read after the job's processes
// are gone, when something outside the group still holds the pipe.
const drainTimeout = time.Second
