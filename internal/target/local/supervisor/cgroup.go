package supervisor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cgroupVersion tells which interface a controller directory speaks.
type cgroupVersion int

const (
	cgroupV1 cgroupVersion = 1
	cgroupV2 cgroupVersion = 2
)

// cgroupDir is one controller's parent directory for replica groups.
type cgroupDir struct {
	version cgroupVersion
	parent  string // e.g. /sys/fs/cgroup/memory/<own cgroup>/slipway
}

// cgroups creates and removes per-replica cgroups; detection runs once.
type cgroups struct {
	parent   string // Config.CgroupParent
	once     sync.Once
	mem, cpu *cgroupDir
	detErr   error
	mountTab string // for tests: /proc/self/mountinfo
	selfTab  string // for tests: /proc/self/cgroup
}

// mount is one cgroup filesystem from mountinfo.
type mount struct {
	root, point string
	v2          bool
	controllers []string // v1 only
}

// parseMountinfo returns the cgroup mounts of /proc/self/mountinfo.
func parseMountinfo(b []byte) []mount {
	var out []mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		switch g[0] {
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(g[2], ",") {
				if o == "memory" || o == "cpu" {
					ctrls = append(ctrls, o)
				}
			}
			out = append(out, mount{root: unescapeMount(f[3]), point: unescapeMount(f[4]), controllers: ctrls})
		case "cgroup2":
			out = append(out, mount{root: unescapeMount(f[3]), point: unescapeMount(f[4]), v2: true})
		}
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseSelfCgroup maps controller ("" for v2) to the path of /proc/self/cgroup.
func parseSelfCgroup(b []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out
}

// detect picks a v1 hierarchy per controller, else the unified v2 one.
func (c *cgroups) detect() {
	mi, err := os.ReadFile(c.mountTab)
	if err != nil {
		c.detErr = err
		return
	}
	self, _ := os.ReadFile(c.selfTab)
	own := parseSelfCgroup(self)
	mounts := parseMountinfo(mi)
	for _, ctrl := range []string{"memory", "cpu"} {
		d := c.v1Dir(mounts, own, ctrl)
		if d == nil {
			d = c.v2Dir(mounts, ctrl)
		}
		if ctrl == "memory" {
			c.mem = d
		} else {
			c.cpu = d
		}
	}
}

func (c *cgroups) v1Dir(mounts []mount, own map[string]string, ctrl string) *cgroupDir {
	for _, m := range mounts {
		if m.v2 || !contains(m.controllers, ctrl) {
			continue
		}
		base := m.point
		if c.parent == "" {
			// Our own cgroup, relative to the mount's root, then "slipway".
			rel := strings.TrimPrefix(own[ctrl], m.root)
			return &cgroupDir{version: cgroupV1, parent: filepath.Join(base, rel, "slipway")}
		}
		return &cgroupDir{version: cgroupV1, parent: filepath.Join(base, c.parent)}
	}
	return nil
}

// v2Dir is best-effort: a group directly under the unified root (exempt from
// the no-internal-processes rule) with the controller enabled on the way down.
func (c *cgroups) v2Dir(mounts []mount, ctrl string) *cgroupDir {
	for _, m := range mounts {
		if !m.v2 {
			continue
		}
		avail, err := os.ReadFile(filepath.Join(m.point, "cgroup.controllers"))
		if err != nil || !contains(strings.Fields(string(avail)), ctrl) {
			continue
		}
		parent := c.parent
		if parent == "" {
			parent = "slipway"
		}
		return &cgroupDir{version: cgroupV2, parent: filepath.Join(m.point, parent)}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// create makes the replica's groups for the requested limits and returns
// their directories and the cgroup.procs files to join.
func (c *cgroups) create(id string, r Resources) (dirs, procs []string, err error) {
	if r.MemoryBytes == 0 && r.CPUMillicores == 0 {
		return nil, nil, nil
	}
	c.once.Do(c.detect)
	type want struct {
		d     *cgroupDir
		ctrl  string
		files [][2]string
	}
	var wants []want
	if r.MemoryBytes > 0 {
		n := strconv.FormatInt(r.MemoryBytes, 10)
		wants = append(wants, want{c.mem, "memory", nil})
		if c.mem != nil && c.mem.version == cgroupV1 {
			wants[len(wants)-1].files = [][2]string{{"memory.limit_in_bytes", n}, {"memory.memsw.limit_in_bytes?", n}}
		} else {
			wants[len(wants)-1].files = [][2]string{{"memory.max", n}, {"memory.swap.max?", "0"}}
		}
	}
	if r.CPUMillicores > 0 {
		const period = 100000
		quota := strconv.FormatInt(r.CPUMillicores*period/1000, 10)
		wants = append(wants, want{c.cpu, "cpu", nil})
		if c.cpu != nil && c.cpu.version == cgroupV1 {
			wants[len(wants)-1].files = [][2]string{{"cpu.cfs_period_us", strconv.Itoa(period)}, {"cpu.cfs_quota_us", quota}}
		} else {
			wants[len(wants)-1].files = [][2]string{{"cpu.max", quota + " " + strconv.Itoa(period)}}
		}
	}
	for _, w := range wants {
		if w.d == nil {
			removeCgroups(dirs)
			return nil, nil, fmt.Errorf("%w: no %s controller (detection: %v)", ErrCgroupsUnavailable, w.ctrl, c.detErr)
		}
		dir := filepath.Join(w.d.parent, id)
		if contains(dirs, dir) { // v2: one group carries both controllers
			continue
		}
		if err := makeGroup(w.d, dir, w.ctrl); err != nil {
			removeCgroups(dirs)
			return nil, nil, fmt.Errorf("%w: %w", ErrCgroupsUnavailable, err)
		}
		dirs = append(dirs, dir)
		procs = append(procs, filepath.Join(dir, "cgroup.procs"))
	}
	for _, w := range wants {
		dir := filepath.Join(w.d.parent, id)
		for _, kv := range w.files {
			name, optional := strings.CutSuffix(kv[0], "?")
			if err := os.WriteFile(filepath.Join(dir, name), []byte(kv[1]), 0); err != nil && !optional {
				removeCgroups(dirs)
				return nil, nil, fmt.Errorf("set %s: %w", name, err)
			}
		}
	}
	return dirs, procs, nil
}

// makeGroup creates dir; on v2 it first enables ctrl in the parents' subtree.
func makeGroup(d *cgroupDir, dir, ctrl string) error {
	if err := os.MkdirAll(d.parent, 0o755); err != nil {
		return err
	}
	if d.version == cgroupV2 {
		for _, p := range []string{filepath.Dir(d.parent), d.parent} {
			_ = os.WriteFile(filepath.Join(p, "cgroup.subtree_control"), []byte("+"+ctrl), 0)
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return nil
}

// removeCgroups kills whatever is left in the groups (a replica's stray
// children) and removes them; cgroup directories only go once empty.
func removeCgroups(dirs []string) {
	for _, dir := range dirs {
		for try := 0; try < 20; try++ {
			err := syscall.Rmdir(dir)
			if err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					_, _ = syscall.Wait4(pid, nil, syscall.WNOHANG, nil)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// oomKills reads the OOM-kill counter of the replica's memory group.
func oomKills(dirs []string) int {
	for _, dir := range dirs {
		for _, name := range []string{"memory.oom_control", "memory.events"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
					n, _ := strconv.Atoi(strings.TrimSpace(v))
					return n
				}
			}
		}
	}
	return 0
}
