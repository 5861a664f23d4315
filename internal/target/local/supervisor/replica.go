package supervisor

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// replica is one supervised process slot; its fields are guarded by mu
// except spec, seq, cancel and done, which are set before it is shared.
type replica struct {
	s      *Supervisor
	spec   Spec
	seq    int
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	rec      Record
	gen      int // incarnation, so late probe results of a dead process are ignored
	running  bool
	ready    bool
	restarts int
	ooms     int
	oomSeen  int
	lastExit string
}

func (r *replica) snapshot() Replica {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.rec
	rec.Cgroups = append([]string(nil), rec.Cgroups...)
	return Replica{Record: rec, Running: r.running, Ready: r.ready, Restarts: r.restarts, OOMKills: r.ooms, LastExit: r.lastExit}
}

// start spawns a new process for the replica, in its cgroups when limited.
func (r *replica) start() error {
	r.mu.Lock()
	rec := r.rec
	r.mu.Unlock()
	dirs, procs, err := r.s.cg.create(rec.ID, r.spec.Resources)
	if err != nil {
		return fmt.Errorf("supervisor: replica %s: %w", rec.ID, err)
	}
	env := append([]string{"PATH=" + os.Getenv("PATH")}, r.spec.Env...)
	env = append(env, "PORT="+strconv.Itoa(rec.Port))
	if f, err := os.OpenFile(rec.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640); err == nil {
		_, _ = fmt.Fprintf(f, "--- slipway: starting replica %s (%s) on port %d at %s\n",
			rec.ID, rec.Version, rec.Port, r.s.cfg.Now().UTC().Format(time.RFC3339Nano))
		_ = f.Close()
	}
	pid, st, err := spawn(r.spec.Binary, r.spec.Args, env, rec.LogPath, procs)
	if err != nil {
		return fmt.Errorf("supervisor: replica %s: %w", rec.ID, err)
	}
	r.mu.Lock()
	r.rec.PID, r.rec.StartTime, r.rec.Cgroups = pid, st, dirs
	r.running, r.ready = true, false
	r.gen++
	r.mu.Unlock()
	r.s.emit(EventStarted, r, "")
	return nil
}

// run watches the replica until ctx ends, restarting it with back-off.
func (r *replica) run(ctx context.Context, needStart bool) {
	b := r.s.cfg.Backoff
	failures := 0          // consecutive failed incarnations, for the back-off
	immediate := needStart // an adopted record whose process is gone restarts at once
	for {
		if needStart {
			if !immediate && !sleepCtx(ctx, b.Delay(failures)) {
				return
			}
			immediate = false
			if ctx.Err() != nil {
				return
			}
			r.mu.Lock()
			r.restarts++
			r.mu.Unlock()
			if err := r.start(); err != nil {
				r.exited(err.Error())
				failures++
				continue
			}
		}
		began := r.s.cfg.Now()
		reason := r.watch(ctx)
		if ctx.Err() != nil {
			return // Close or Stop: the process is left to the caller
		}
		r.exited(reason)
		if r.s.cfg.Now().Sub(began) >= b.Reset {
			failures = 0
		}
		failures++
		needStart = true
	}
}

// exited records the end of an incarnation and reports it.
func (r *replica) exited(reason string) {
	r.mu.Lock()
	wasReady := r.ready
	r.running, r.ready = false, false
	r.gen++
	if n := oomKills(r.rec.Cgroups); n > r.oomSeen {
		r.ooms += n - r.oomSeen
		r.oomSeen = n
		reason += " (OOM killed)"
	}
	r.lastExit = reason
	r.mu.Unlock()
	if wasReady {
		r.s.emit(EventNotReady, r, reason)
	}
	r.s.emit(EventExited, r, reason)
}

// watch runs the probes and polls the process; it returns why the
// incarnation ended, or "" when ctx ended first.
func (r *replica) watch(ctx context.Context) string {
	r.mu.Lock()
	pid, st, port, gen := r.rec.PID, r.rec.StartTime, r.rec.Port, r.gen
	r.mu.Unlock()

	pctx, cancel := context.WithCancel(ctx)
	var probes sync.WaitGroup
	defer probes.Wait()
	defer cancel()
	liveFail := make(chan struct{}, 1)
	if r.spec.Readiness.Path != "" {
		probes.Go(func() { runProbe(pctx, port, r.spec.Readiness, func(ok bool) { r.setReady(gen, ok) }) })
	} else {
		r.setReady(gen, true)
	}
	if r.spec.Liveness.Path != "" {
		probes.Go(func() {
			runProbe(pctx, port, r.spec.Liveness, func(ok bool) {
				if !ok {
					select {
					case liveFail <- struct{}{}:
					default:
					}
				}
			})
		})
	}
	t := time.NewTicker(r.s.cfg.PollInterval)
	defer t.Stop()
	logChecked := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ""
		case <-liveFail:
			cancel()
			err := terminate(ctx, pid, st, r.spec.GracePeriod, r.s.cfg.PollInterval, false)
			if err != nil && ctx.Err() != nil {
				return ""
			}
			return fmt.Sprintf("liveness probe %s failed %d times", r.spec.Liveness.Path, r.spec.Liveness.FailureThreshold)
		case <-t.C:
			if alive, info := checkAlive(pid, st); !alive {
				return info.String()
			}
			if time.Since(logChecked) >= logCheckInterval {
				logChecked = time.Now()
				r.rotateLog()
			}
		}
	}
}

func (r *replica) setReady(gen int, ok bool) {
	r.mu.Lock()
	if gen != r.gen || !r.running || r.ready == ok {
		r.mu.Unlock()
		return
	}
	r.ready = ok
	r.mu.Unlock()
	if ok {
		r.s.emit(EventReady, r, "")
	} else {
		r.s.emit(EventNotReady, r, "readiness probe failed")
	}
}

// terminate sends SIGTERM to the process group, waits up to grace, then
// SIGKILLs it. When ctx ends first it returns ctx's error, after a SIGKILL
// if killOnCancel (a requested stop is never left half done; a supervisor
// being closed must not kill).
// reapKilled waits (briefly: SIGKILL is not ignorable) until a killed
// process is gone, reaping it when it is our child, so a cancelled stop
// leaves no zombie behind.
func reapKilled(pid int, startTime uint64, poll time.Duration) {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(poll) {
		if alive, _ := checkAlive(pid, startTime); !alive {
			return
		}
	}
}

func terminate(ctx context.Context, pid int, startTime uint64, grace, poll time.Duration, killOnCancel bool) error {
	if err := signalGroup(pid, startTime, syscall.SIGTERM); err != nil {
		return err
	}
	graceT := time.NewTimer(grace)
	defer graceT.Stop()
	t := time.NewTicker(poll)
	defer t.Stop()
	killed := false
	for {
		if alive, _ := checkAlive(pid, startTime); !alive {
			return nil
		}
		select {
		case <-ctx.Done():
			if killOnCancel {
				_ = signalGroup(pid, startTime, syscall.SIGKILL)
				reapKilled(pid, startTime, poll)
			}
			return ctx.Err()
		case <-graceT.C:
			if !killed {
				killed = true
				if err := signalGroup(pid, startTime, syscall.SIGKILL); err != nil {
					return err
				}
			}
		case <-t.C:
		}
	}
}
