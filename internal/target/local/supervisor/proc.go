package supervisor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// procStat is what the supervisor needs from /proc/<pid>/stat.
type procStat struct {
	State     byte
	StartTime uint64
}

// parseProcStat parses /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func parseProcStat(b []byte) (procStat, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, errors.New("proc stat: no command name")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 (starttime) is f[19].
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("proc stat: %d fields after the command name", len(f))
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("proc stat: start time: %w", err)
	}
	return procStat{State: f[0][0], StartTime: st}, nil
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

// exitInfo describes how a process ended; known only for our own children.
type exitInfo struct {
	status syscall.WaitStatus
	known  bool
}

func (e exitInfo) String() string {
	switch {
	case !e.known:
		return "exited (not our child, status unknown)"
	case e.status.Signaled():
		return "signal: " + e.status.Signal().String()
	default:
		return "exit status " + strconv.Itoa(e.status.ExitStatus())
	}
}

// checkAlive reports whether the process pid with the given start time still
// runs. A zombie with that start time is reaped when it is our child (its exit
// status is then known); a PID now used by another process counts as gone and
// is never waited for, so other children of this process are not stolen.
func checkAlive(pid int, startTime uint64) (bool, exitInfo) {
	st, err := readProcStat(pid)
	if err != nil || st.StartTime != startTime {
		return false, exitInfo{}
	}
	if st.State != 'Z' && st.State != 'X' {
		return true, exitInfo{}
	}
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.EINTR): // Go's preemption signals interrupt it
			continue
		case err != nil: // ECHILD: another process's zombie
			return false, exitInfo{}
		case got == pid:
			return false, exitInfo{status: ws, known: true}
		default: // leader is a zombie but other threads still exit: not waitable yet
			return true, exitInfo{}
		}
	}
}

// signalGroup signals the process group led by pid, after checking that pid is
// still the process we started (never signal a recycled PID).
func signalGroup(pid int, startTime uint64, sig syscall.Signal) error {
	if alive, _ := checkAlive(pid, startTime); !alive {
		return nil
	}
	if err := unix.Kill(-pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signal %v to process group %d: %w", sig, pid, err)
	}
	return nil
}

// wrapperScript joins the cgroups named by the first arguments, then execs
// the rest. Usage: sh -c wrapperScript name N procs1..procsN binary args...
const wrapperScript = `n=$1; shift
while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done
exec "$@"`

// spawn starts binary in its own session with stdout and stderr appended to
// logPath; with cgroupProcs it goes through the wrapper, so the binary only
// runs once the process is inside its cgroups.
func spawn(binary string, args, env []string, logPath string, cgroupProcs []string) (pid int, startTime uint64, err error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return 0, 0, fmt.Errorf("open replica log: %w", err)
	}
	defer logf.Close() //nolint:errcheck // the child holds its own copy
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, 0, err
	}
	defer devnull.Close() //nolint:errcheck

	path, argv := binary, append([]string{binary}, args...)
	if len(cgroupProcs) > 0 {
		path = "/bin/sh"
		argv = append([]string{"sh", "-c", wrapperScript, "slipway-cgroup-wrapper", strconv.Itoa(len(cgroupProcs))}, cgroupProcs...)
		argv = append(argv, binary)
		argv = append(argv, args...)
	}
	p, err := os.StartProcess(path, argv, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{devnull, logf, logf},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return 0, 0, fmt.Errorf("start %s: %w", binary, err)
	}
	pid = p.Pid
	// Release drops Go's handle: the process is watched through its PID and
	// start time like an adopted one, and reaped by checkAlive.
	_ = p.Release()
	st, err := readProcStat(pid)
	if err != nil {
		// It died before we could look: record start time 0, it is reaped as gone.
		return pid, 0, nil
	}
	return pid, st.StartTime, nil
}
