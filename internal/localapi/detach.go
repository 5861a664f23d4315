package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// UpArgs are the arguments of a detached `slipway up` over stateDir, with
// an optional config file and listen address ("" or port 0: any port).
func UpArgs(stateDir, configFile, addr string) []string {
	args := []string{"up", "--state-dir", stateDir}
	if addr != "" && addr != "127.0.0.1:0" {
		args = append(args, "--addr", addr)
	}
	if configFile != "" {
		args = append(args, "--config", configFile)
	}
	return args
}

// DetachOptions configure Detach and EnsureRunning.
type DetachOptions struct {
	// StateDir is the server's state dir. Required.
	StateDir string
	// Args are the child's arguments, e.g. {"up", "--state-dir", dir}; they
	// must make it call Serve on StateDir.
	Args []string
	// Executable overrides os.Executable() (tests point it at a small
	// server program).
	Executable string
	// Env is the child's environment; nil passes this process's through.
	Env []string
	// Wait bounds the wait for the server to answer (default 30s); ctx
	// bounds it too.
	Wait time.Duration
}

const defaultDetachWait = 30 * time.Second

// logTailBytes is how much of up.log an early-exit error quotes.
const logTailBytes = 2 << 10

// Detach starts the server as a child in its own session (it outlives this
// process), with stdin from /dev/null and stdout and stderr appended to
// LogPath(StateDir), then waits until Dial succeeds (and, when another
// starter won the lock, until its own child has given up). If the child exits
// before that and nobody else holds the state dir, the error quotes the
// end of its log. If the child lost the lock to a concurrent starter, the
// winner is dialled instead.
func Detach(ctx context.Context, opts DetachOptions) (*Client, error) {
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("detach slipway up: %w", err)
		}
	}
	logPath := LogPath(opts.StateDir)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return nil, fmt.Errorf("detach slipway up: %w", err)
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("detach slipway up: %w", err)
	}
	defer logf.Close() // the child has its own descriptor once started
	from, _ := logf.Seek(0, io.SeekEnd)

	cmd := exec.Command(exe, opts.Args...) // not CommandContext: the child must outlive ctx
	cmd.Stdout, cmd.Stderr = logf, logf    // Stdin nil reads /dev/null
	cmd.Env = opts.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("detach slipway up: %w", err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { // reaps the child if it exits while we live
		exitErr = cmd.Wait()
		close(exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, waitBound(opts))
	defer cancel()
	c, err := waitServer(ctx, opts, exited)
	if err != nil {
		select {
		case <-exited:
			err = fmt.Errorf("%w (child: %v)", err, exitErr)
		default:
		}
		if tail := readTail(logPath, from); tail != "" {
			err = fmt.Errorf("%w\n%s (pid %d):\n%s", err, logPath, cmd.Process.Pid, tail)
		}
		return nil, err
	}
	if c.Info().PID != cmd.Process.Pid {
		// Another starter won. Our child will exit with a RunningError; wait
		// for it, or it could take over the state dir after the winner stops.
		select {
		case <-exited:
		case <-ctx.Done():
		}
	}
	return c, nil
}

// EnsureRunning dials the server of opts.StateDir, starting it with Detach
// when none runs. Of racing callers exactly one child wins the lock; the
// others' children exit with a RunningError and their callers dial the
// winner.
func EnsureRunning(ctx context.Context, opts DetachOptions) (*Client, error) {
	c, err := Dial(ctx, opts.StateDir)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, ErrNotResponding): // starting up elsewhere
		return waitServer(ctx, opts, nil)
	case errors.Is(err, ErrNotRunning):
		return Detach(ctx, opts)
	}
	return nil, err
}

// waitServer polls Dial until it succeeds, the wait ends, or — when exited
// is not nil — the child has exited and nobody holds the lock.
func waitServer(ctx context.Context, opts DetachOptions, exited <-chan struct{}) (*Client, error) {
	wait := waitBound(opts)
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	childGone := false
	for {
		c, err := Dial(ctx, opts.StateDir)
		switch {
		case err == nil:
			return c, nil
		case errors.Is(err, ErrNotRunning) && childGone:
			return nil, fmt.Errorf("slipway up exited before serving: %w", err)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("slipway up did not answer within %s: %w", wait, err)
		case !errors.Is(err, ErrNotRunning) && !errors.Is(err, ErrNotResponding):
			return nil, err
		}
		select {
		case <-exited:
			childGone, exited = true, nil // a nil channel never fires again
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

func waitBound(opts DetachOptions) time.Duration {
	if opts.Wait <= 0 {
		return defaultDetachWait
	}
	return opts.Wait
}

// readTail returns the last logTailBytes written to path after offset from.
func readTail(path string, from int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= from {
		return ""
	}
	from = max(from, fi.Size()-logTailBytes)
	b := make([]byte, fi.Size()-from)
	n, _ := f.ReadAt(b, from)
	return strings.TrimRight(string(b[:n]), "\n")
}
