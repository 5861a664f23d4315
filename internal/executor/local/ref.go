package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ref is what Process.Ref records: enough to find a job's processes after
// a crash, and to prove they are still the job's.
type ref struct {
	PGID  int    `json:"pgid"`           // the main process: group and session leader
	Start uint64 `json:"start"`          // its start time, clock ticks after boot
	Boot  string `json:"boot,omitempty"` // boot id: start times restart with the machine
	Pipe  uint64 `json:"pipe,omitempty"` // inode of the output pipe the job's processes hold
}

// maxPID is the kernel's PID_MAX_LIMIT.
const maxPID = 1 << 22

func (r ref) String() string {
	b, _ := json.Marshal(r) // cannot fail: plain fields
	return string(b)
}

func parseRef(s string) (ref, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	var r ref
	if err := dec.Decode(&r); err != nil {
		return ref{}, fmt.Errorf("invalid ref %.100q: %w", s, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return ref{}, fmt.Errorf("invalid ref %.100q: data after the JSON object", s)
	}
	// Never let a ref turn into kill(0) or kill(-1): our group, everything.
	if r.PGID < 2 || r.PGID > maxPID {
		return ref{}, fmt.Errorf("invalid ref %.100q: pgid %d out of range", s, r.PGID)
	}
	if r.Start == 0 {
		return ref{}, fmt.Errorf("invalid ref %.100q: no start time", s)
	}
	return r, nil
}

// Reap kills what is left of the job ref names. The group is killed only
// if its leader is still the process that started the job (same boot, same
// start time). When the leader is gone, the pid cannot have been reused
// while members of its group live, but a new group may have taken the id
// since; so only members that started after the job and still hold the
// job's output pipe are killed, one by one.
func (e *Executor) Reap(ctx context.Context, s string) error {
	r, err := parseRef(s)
	if err != nil {
		return fmt.Errorf("local: reap: %w", err)
	}
	if r.Boot != "" && e.boot != "" && r.Boot != e.boot {
		return nil // the machine rebooted: nothing of the job survived
	}
	if r.PGID == syscall.Getpgrp() {
		return fmt.Errorf("local: reap: ref %s names slipway's own process group", s)
	}
	leader, err := readStat(r.PGID)
	switch {
	case err == nil && leader.start == r.Start:
		if err := syscall.Kill(-r.PGID, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
			return fmt.Errorf("local: reap: kill group %d: %w", r.PGID, err)
		}
		return nil
	case err == nil:
		return nil // another process has the id: the job's group is gone
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("local: reap: %w", err)
	}
	return reapOrphans(ctx, r)
}

// reapOrphans kills what remains of a job whose main process has exited.
func reapOrphans(ctx context.Context, r ref) error {
	orphans, err := findOrphans(ctx, r)
	if err != nil {
		return fmt.Errorf("local: reap: %w", err)
	}
	for _, o := range orphans {
		if err := killProcess(o.pid, o.start); err != nil {
			return fmt.Errorf("local: reap: %w", err)
		}
	}
	return nil
}

type orphan struct {
	pid   int
	start uint64
}

// findOrphans lists the processes left by the job r names: members of its
// group or session (a shell with job control moves jobs to groups of their
// own) that started after it and still hold its output pipe.
func findOrphans(ctx context.Context, r ref) ([]orphan, error) {
	if r.Pipe == 0 {
		return nil, nil // cannot tell the job's processes from strangers
	}
	pipe := "pipe:[" + strconv.FormatUint(r.Pipe, 10) + "]"
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var found []orphan
	for _, ent := range ents {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil || (st.pgid != r.PGID && st.sid != r.PGID) || st.start < r.Start || !holds(pid, pipe) {
			continue
		}
		found = append(found, orphan{pid, st.start})
	}
	return found, nil
}

// holds reports whether pid's stdout or stderr is the given pipe.
func holds(pid int, pipe string) bool {
	for _, fd := range []string{"/fd/1", "/fd/2"} {
		if l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + fd); err == nil && l == pipe {
			return true
		}
	}
	return false
}

// killProcess kills pid if it is still the process that started at start;
// the pidfd makes the check and the kill name the same process.
func killProcess(pid int, start uint64) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err == unix.ESRCH {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if st, err := readStat(pid); err != nil || st.start != start {
		return nil // exited in between
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
		return fmt.Errorf("kill %d: %w", pid, err)
	}
	return nil
}

// procStat holds the fields of /proc/<pid>/stat that identify a process.
type procStat struct {
	pgid  int
	sid   int
	start uint64
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	st, err := parseStat(b)
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return st, nil
}

// parseStat reads /proc/<pid>/stat: "pid (comm) state ppid pgrp session
// ... starttime(22) ...". comm may hold spaces and parentheses, so fields
// are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("%d fields after the command name, want 20 or more", len(f))
	}
	pgid, err1 := strconv.Atoi(f[2])
	sid, err2 := strconv.Atoi(f[3])
	start, err3 := strconv.ParseUint(f[19], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return procStat{}, err
	}
	return procStat{pgid: pgid, sid: sid, start: start}, nil
}

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
