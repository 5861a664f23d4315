package local

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// helperEnv, set in a job's environment, makes the test binary act as the
// step instead of running tests: each line of its last argument is an
// action and its arguments, and it prints "<line>: <result>". Written in
// Go so the hostile actions do not depend on tools in the image.
const helperEnv = "SLIPWAY_HELPER"

func helperMain(script string) int {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for line := range strings.Lines(script) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s: %s\n", strings.Join(f, " "), act(f[0], f[1:]))
	}
	return 0
}

func act(cmd string, args []string) string {
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch cmd {
	case "read":
		b, err := os.ReadFile(arg(0))
		return result(fmt.Sprintf("ok %d bytes", len(b)), err)
	case "write":
		return result("ok", os.WriteFile(arg(0), []byte("x"), 0o644))
	case "umount":
		return outcome(syscall.Unmount(arg(0), 0), syscall.Unmount(arg(0), syscall.MNT_DETACH))
	case "mount":
		return outcome(
			syscall.Mount("tmpfs", arg(0), "tmpfs", 0, ""),
			syscall.Mount("", "/", "", syscall.MS_REMOUNT|syscall.MS_BIND, ""),
			syscall.Unshare(syscall.CLONE_NEWNS),
		)
	case "caps":
		out, err := exec.Command("/bin/cat", "/proc/self/status").Output()
		if err != nil {
			return result("", err)
		}
		self, _ := os.ReadFile("/proc/self/status")
		return "self " + capEff(string(self)) + " child " + capEff(string(out))
	case "procs":
		return procs()
	case "proc":
		p := "/proc/" + arg(0)
		_, err1 := os.Stat(p)
		_, err2 := os.ReadFile(p + "/environ")
		_, err3 := os.Readlink(p + "/root")
		return "stat " + result("ok", err1) + "; environ " + result("ok", err2) + "; root " + result("ok", err3)
	case "ptrace":
		pid, _ := strconv.Atoi(arg(0))
		runtime.LockOSThread() // ptrace requests come from the attaching thread
		err := syscall.PtraceAttach(pid)
		if err == nil {
			syscall.PtraceDetach(pid)
		}
		return result("ok", err)
	case "environ1":
		b, err := os.ReadFile("/proc/1/environ")
		return result(fmt.Sprintf("ok %d bytes", len(b)), err)
	case "dial":
		c, err := net.DialTimeout("tcp", arg(0), 10*time.Second)
		if err == nil {
			c.Close()
		}
		return result("ok", err)
	}
	return "unknown action"
}

// result is ok, or the error's errno text (stable across paths).
func result(ok string, err error) string {
	if err == nil {
		return ok
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return "error: " + errno.Error()
	}
	return "error: " + err.Error()
}

// outcome is "denied" if every attempt failed, else which ones worked.
func outcome(errs ...error) string {
	var ok []string
	for i, err := range errs {
		if err == nil {
			ok = append(ok, strconv.Itoa(i))
		}
	}
	if len(ok) == 0 {
		return "denied"
	}
	return "allowed: " + strings.Join(ok, ",")
}

func capEff(status string) string {
	for line := range strings.Lines(status) {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "missing"
}

// procs lists the processes visible in /proc as "pid comm" pairs.
func procs() string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return result("", err)
	}
	var ps []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
		ps = append(ps, e.Name()+" "+strings.TrimSpace(string(comm)))
	}
	return strings.Join(ps, ", ")
}
