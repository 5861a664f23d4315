package supervisor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// Probe is an HTTP GET of Path on 127.0.0.1:$PORT; a 2xx or 3xx answer within
// Timeout is a success.
type Probe struct {
	// Path is the request path, e.g. "/healthz". An empty Path disables the probe.
	Path string
	// Interval between probes; default 1 s.
	Interval time.Duration
	// Timeout of one probe; default 1 s.
	Timeout time.Duration
	// FailureThreshold is how many consecutive failures count as failed; default 3.
	FailureThreshold int
	// InitialDelay before the first probe after the process starts.
	InitialDelay time.Duration
}

// Resources are per-replica limits enforced through cgroups; zero means unlimited.
type Resources struct {
	// MemoryBytes is the memory limit; the kernel OOM-kills the replica beyond it.
	MemoryBytes int64
	// CPUMillicores is the CPU quota: 1000 is one full core. At least 10 when set.
	CPUMillicores int64
}

// Spec describes the replicas of one version of one service.
type Spec struct {
	// Service and Environment name what runs; with Version they form replica IDs.
	Service, Environment, Version string
	// Binary is the absolute path of the executable to run.
	Binary string
	// Args are the arguments after the program name.
	Args []string
	// Env are extra "KEY=VALUE" variables; PATH is inherited and PORT is set.
	Env []string
	// Replicas is the desired number of processes.
	Replicas int
	// Readiness decides when a replica may receive traffic. Without a Path a
	// running replica is ready.
	Readiness Probe
	// Liveness failures restart the replica. Without a Path only exits do.
	Liveness Probe
	// Resources are the cgroup limits.
	Resources Resources
	// GracePeriod between SIGTERM and SIGKILL on stop; default 10 s.
	GracePeriod time.Duration
	// LogDir receives one <replica ID>.log per replica.
	LogDir string
}

// Record identifies a running replica; persist it to adopt the replica later.
type Record struct {
	ID          string   `json:"id"`
	Service     string   `json:"service"`
	Environment string   `json:"environment"`
	Version     string   `json:"version"`
	PID         int      `json:"pid"`
	StartTime   uint64   `json:"startTime"` // clock ticks after boot, /proc/<pid>/stat field 22
	Port        int      `json:"port"`
	LogPath     string   `json:"logPath"`
	Cgroups     []string `json:"cgroups,omitempty"` // absolute cgroup directories
}

// Addr is the replica's loopback address, host:port.
func (r Record) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port)) }

// Replica is a snapshot of a supervised replica.
type Replica struct {
	Record
	// Running is true while the recorded process is alive.
	Running bool
	// Ready is the readiness probe's verdict; false while not running.
	Ready bool
	// Restarts counts restarts after exits, liveness failures and dead adoptions.
	Restarts int
	// OOMKills counts exits the memory cgroup reported as OOM kills.
	OOMKills int
	// LastExit describes the last end of the process, e.g. "exit status 3".
	LastExit string
}

// Errors returned by the Supervisor; test with errors.Is.
var (
	ErrClosed             = errors.New("supervisor: closed")
	ErrInvalidSpec        = errors.New("supervisor: invalid spec")
	ErrOtherService       = errors.New("supervisor: spec is for another service or environment")
	ErrCgroupsUnavailable = errors.New("supervisor: no writable cgroup controller for the requested limits")
)

// namePart keeps IDs, file names and cgroup directory names safe.
var namePart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$`)

func (s Spec) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidSpec, fmt.Sprintf(format, a...))
	}
	for name, v := range map[string]string{"service": s.Service, "environment": s.Environment, "version": s.Version} {
		if !namePart.MatchString(v) {
			return bad("%s %q must match %s", name, v, namePart)
		}
	}
	if !filepath.IsAbs(s.Binary) {
		return bad("binary %q is not an absolute path", s.Binary)
	}
	if st, err := os.Stat(s.Binary); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return bad("binary %q is not an executable file", s.Binary)
	}
	if s.Replicas < 0 {
		return bad("replicas %d < 0", s.Replicas)
	}
	if s.LogDir == "" {
		return bad("no log directory")
	}
	if s.Resources.MemoryBytes < 0 || s.Resources.CPUMillicores < 0 ||
		(s.Resources.CPUMillicores > 0 && s.Resources.CPUMillicores < 10) {
		return bad("resources %+v out of range", s.Resources)
	}
	return nil
}

func (s Spec) withDefaults() Spec {
	s.Readiness = s.Readiness.withDefaults()
	s.Liveness = s.Liveness.withDefaults()
	if s.GracePeriod <= 0 {
		s.GracePeriod = 10 * time.Second
	}
	return s
}

func (p Probe) withDefaults() Probe {
	if p.Interval <= 0 {
		p.Interval = time.Second
	}
	if p.Timeout <= 0 {
		p.Timeout = time.Second
	}
	if p.FailureThreshold <= 0 {
		p.FailureThreshold = 3
	}
	return p
}
