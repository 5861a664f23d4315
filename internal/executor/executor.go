// Package executor defines where a step runs: the plug-in contract every
// executor (local process, container, Kubernetes pod) implements, and the job
// description the engine hands to it.
//
// # Lifecycle
//
// The engine creates one Executor per run (or shares one across runs) and
// calls Start once per step attempt. Start returns as soon as the step is
// running; the returned Process is then waited on exactly once with Wait.
// After a crash of slipway, a later run calls Reap with the Ref recorded for
// every attempt that never finished, to kill what outlived the crash.
//
// # Concurrency
//
// An Executor is safe for concurrent use: the engine starts many jobs at once
// from different goroutines. A Process is used by one goroutine.
//
// # Output
//
// Everything the step writes to stdout and stderr goes, combined and in
// order, to Job.Output. The executor writes to Job.Output from one goroutine
// at a time and never after Wait has returned.
//
// # Cancellation
//
// When the context given to Wait is done (Ctrl-C, a timeout, fail-fast), the
// executor asks every process of the job to stop (SIGTERM for processes),
// waits up to Job.Grace, then kills them all, and returns the exit with
// Exit.Canceled set. Wait also ends everything the job left behind when its
// main process exits on its own (background children), so a finished step
// holds no resource.
//
// # Errors
//
// Start and Wait return an error wrapping ErrExecutor when the executor
// itself failed (cannot start the shell, the sandbox is unavailable...), as
// opposed to the step's commands failing, which is a non-zero Exit.Code.
package executor

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrExecutor marks failures of the executor rather than of the step's
// commands; `retry: {when: [executor-error]}` retries them.
var ErrExecutor = errors.New("executor error")

// Executor runs jobs. See the package documentation for the contract.
type Executor interface {
	// Name is the executor's name as written in the pipeline ("local").
	Name() string
	// Start launches job and returns once it runs.
	Start(ctx context.Context, job *Job) (Process, error)
	// Reap kills whatever is left of a process recorded (by its Ref) by an
	// earlier slipway that died. It is a no-op when nothing is left, and must
	// never kill an unrelated process that reused an identifier.
	Reap(ctx context.Context, ref string) error
}

// Process is one running job.
type Process interface {
	// Ref identifies the job's processes durably (it is stored before the
	// step is reported running) so that Reap can find them after a crash.
	Ref() string
	// Wait blocks until the job ends or ctx is done; see the package
	// documentation for cancellation.
	Wait(ctx context.Context) (Exit, error)
}

// Job is one attempt of one step.
type Job struct {
	// ID is unique within the state dir, e.g. "12/build/1" (run/step/attempt).
	ID string
	// Shell is the interpreter and its flags; the script is its last argument
	// (e.g. ["/bin/sh", "-e", "-c"]).
	Shell []string
	// Script is the step's commands.
	Script string
	// Argv, when set, is Script split into words because it uses no shell
	// syntax at all. An executor may run it directly, sparing a shell start
	// (as make does), when Argv[0] resolves to a program; otherwise it runs
	// Shell with Script. Both give the same result.
	Argv []string
	// Dir is the absolute working directory.
	Dir string
	// Env is the complete environment ("KEY=value"). The executor adds
	// nothing and passes nothing of its own environment.
	Env []string
	// Output receives stdout and stderr combined.
	Output io.Writer
	// Grace is how long processes get between SIGTERM and SIGKILL.
	Grace time.Duration
	// Sandbox says how the job is isolated from the host.
	Sandbox Sandbox
}

// SandboxMode selects how strongly a job is isolated.
type SandboxMode int

const (
	// SandboxOff runs the job with slipway's own view of the machine.
	SandboxOff SandboxMode = iota
	// SandboxOn drops all capabilities, gives the job its own PID namespace,
	// makes the file system read-only except Sandbox.Writable, and hides
	// Sandbox.Hidden.
	SandboxOn
	// SandboxStrict is SandboxOn without network.
	SandboxStrict
)

func (m SandboxMode) String() string {
	switch m {
	case SandboxOn:
		return "on"
	case SandboxStrict:
		return "strict"
	}
	return "off"
}

// Sandbox describes the isolation of one job. Paths are absolute.
type Sandbox struct {
	Mode SandboxMode
	// Writable paths stay writable (checkout, private temp dir, HOME).
	Writable []string
	// Hidden paths appear empty (directories) or as /dev/null (files).
	Hidden []string
}

// Exit is how a job ended.
type Exit struct {
	// Code is the exit status of the main process; -1 when killed by a signal.
	Code int
	// Signal names the signal that killed it ("killed", "terminated"), if any.
	Signal string
	// Canceled is set when Wait stopped the job because its context ended.
	Canceled bool
	// Duration is the wall time from Start to the end of the job.
	Duration time.Duration
}

// Success reports whether the job ended with status 0 on its own.
func (e Exit) Success() bool { return e.Code == 0 && !e.Canceled && e.Signal == "" }
