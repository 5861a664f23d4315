package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/slipway-ci/slipway/internal/executor"
)

// process is one running job.
type process struct {
	cmd        *exec.Cmd
	pgid       int    // the main process's group (and session): its pid
	startTicks uint64 // its start time, /proc/<pid>/stat field 22
	ref        string
	grace      time.Duration
	sb         *sandbox // nil when not sandboxed

	begin   time.Time
	end     time.Time     // set before exited is closed
	exited  chan struct{} // closed once the main process is reaped
	waitErr error         // from cmd.Wait, set before exited is closed

	out    *output
	waited atomic.Bool
}

// launch starts cmd, whose stdout and stderr write to the pipe out reads.
func launch(cmd *exec.Cmd, out *os.File, sb *sandbox, job *executor.Job) (*process, error) {
	p := &process{cmd: cmd, grace: max(job.Grace, 0), sb: sb, exited: make(chan struct{})}
	p.begin = time.Now()
	err := cmd.Start()
	if sb != nil {
		sb.started() // close our copies of the fds bwrap inherited
	}
	if err != nil {
		out.Close()
		if sb != nil {
			sb.close()
		}
		return nil, err
	}
	p.pgid = cmd.Process.Pid
	st, err := readStat(p.pgid)
	if err != nil {
		// Without a start time Reap could never prove the group is ours.
		syscall.Kill(-p.pgid, syscall.SIGKILL)
		cmd.Wait()
		out.Close()
		if sb != nil {
			sb.close()
		}
		return nil, fmt.Errorf("identify job process: %w", err)
	}
	p.startTicks = st.start
	p.out = copyOutput(out, job.Output, sb != nil)
	if sb != nil {
		go sb.readStatus()
	}
	go p.reap()
	return p, nil
}

func (p *process) reap() {
	p.waitErr = p.cmd.Wait()
	p.end = time.Now()
	close(p.exited)
}

func (p *process) Ref() string { return p.ref }

// Wait waits for the job's main process, then kills what it left in its
// group and drains the output. If ctx ends first, it stops the job.
func (p *process) Wait(ctx context.Context) (executor.Exit, error) {
	if !p.waited.CompareAndSwap(false, true) {
		return executor.Exit{}, errors.New("local: Wait called twice")
	}
	canceled := false
	select {
	case <-p.exited:
	default:
		select {
		case <-p.exited:
		case <-ctx.Done():
			canceled = true
			p.stop()
		}
	}
	p.signal(syscall.SIGKILL) // whatever the main process left behind
	p.drain()
	return p.result(canceled)
}

// stop asks the job to end, then kills it after the grace period.
func (p *process) stop() {
	grace := time.NewTimer(p.grace)
	defer grace.Stop()
	if p.sb != nil {
		// The step's group exists once bwrap reports its pid.
		select {
		case <-p.sb.pidKnown:
		case <-p.exited:
			return
		case <-grace.C:
			p.signal(syscall.SIGKILL)
			<-p.exited
			return
		}
		// bwrap's reaper ignores SIGTERM: sent before it forks the step,
		// it would reach nobody. Before that no step code has run.
		if !p.sb.stepStarted() {
			p.signal(syscall.SIGKILL)
			<-p.exited
			return
		}
	}
	if !p.signal(syscall.SIGTERM) {
		// Nothing received it: the sandbox is still being built and no
		// step code runs yet, or everything is already gone.
		p.signal(syscall.SIGKILL)
	}
	select {
	case <-p.exited:
	case <-grace.C:
		p.signal(syscall.SIGKILL)
		<-p.exited
	}
}

// signal sends sig to the job's processes and reports whether any got it.
// Unsandboxed, that is the main process's group. Sandboxed, it is the
// step's own group (SIGTERM to bwrap would kill it, and it would SIGKILL
// the step before it could clean up); SIGKILL there also kills bwrap's
// reaper, which takes down the whole PID namespace, including processes
// that left the group, and bwrap then reports the exit. bwrap itself is
// killed only when that group does not exist: the sandbox is still being
// built, or it is gone.
func (p *process) signal(sig syscall.Signal) bool {
	if p.sb == nil {
		return syscall.Kill(-p.pgid, sig) == nil
	}
	if g := p.sb.pid.Load(); g > 0 && syscall.Kill(-int(g), sig) == nil {
		return true
	}
	return sig == syscall.SIGKILL && syscall.Kill(-p.pgid, sig) == nil
}

// drain lets the output copy finish, and stops it if a process that
// escaped the group keeps the pipe open.
func (p *process) drain() {
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	expired := false
	await := func(done <-chan struct{}, stop func()) {
		if !expired {
			select {
			case <-done:
				return
			case <-t.C:
				expired = true
			}
		}
		stop()
		<-done
	}
	await(p.out.done, p.out.stop)
	if p.sb != nil {
		await(p.sb.statusDone, p.sb.close)
	}
}

func (p *process) result(canceled bool) (executor.Exit, error) {
	exit := executor.Exit{Canceled: canceled, Duration: p.end.Sub(p.begin)}
	var ee *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &ee) {
		return exit, fmt.Errorf("local: wait: %w", executorError{p.waitErr})
	}
	ws, _ := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		exit.Code, exit.Signal = -1, ws.Signal().String()
	default:
		exit.Code = ws.ExitStatus()
	}
	var err error
	if p.sb != nil && ws.Exited() && !p.sb.exitReported.Load() {
		// bwrap failed before the step ran; it said why on stderr.
		err = fmt.Errorf("local: sandbox setup failed (bwrap exit status %d): %s",
			exit.Code, p.out.bwrapMessage())
		err = executorError{err}
	}
	if werr := p.out.err; werr != nil {
		err = errors.Join(err, fmt.Errorf("local: writing step output: %w", executorError{werr}))
	}
	return exit, err
}
