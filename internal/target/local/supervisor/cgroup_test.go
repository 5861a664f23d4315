package supervisor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/testtool"
)

// requireCgroupV1 skips unless the v1 memory and cpu controllers are
// writable here (fails instead when SLIPWAY_TEST_REQUIRE names "cgroup-v1").
func requireCgroupV1(t *testing.T) {
	t.Helper()
	c := &cgroups{mountTab: "/proc/self/mountinfo", selfTab: "/proc/self/cgroup"}
	c.detect()
	ok := c.mem != nil && c.mem.version == cgroupV1 && c.cpu != nil && c.cpu.version == cgroupV1
	if ok {
		probe := filepath.Join(c.mem.parent, "probe-"+randomHex(4))
		if err := makeGroup(c.mem, probe, "memory"); err != nil {
			ok = false
		}
		removeCgroups([]string{probe})
	}
	if !ok {
		if testtool.Required("cgroup-v1") {
			t.Fatal("cgroup v1 memory/cpu controllers are not writable")
		}
		t.Skip("cgroup v1 memory/cpu controllers are not writable")
	}
}

func TestCgroupV1LimitsApplied(t *testing.T) {
	requireCgroupV1(t)
	s, _ := newTestSupervisor(t, Config{})
	spec := testSpec(t, "v1", 1)
	spec.Resources = Resources{MemoryBytes: 256 << 20, CPUMillicores: 500}
	mustStart(t, s, spec)
	waitReady(t, s, "v1", 1)
	r := s.Replicas("v1")[0]
	if len(r.Cgroups) != 2 {
		t.Fatalf("cgroups %v, want memory and cpu", r.Cgroups)
	}
	self, _ := os.ReadFile("/proc/" + itoa(r.PID) + "/cgroup")
	for _, dir := range r.Cgroups {
		procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil || !containsLine(string(procs), itoa(r.PID)) {
			t.Errorf("%s/cgroup.procs = %q (%v), want pid %d; /proc cgroup:\n%s", dir, procs, err, r.PID, self)
		}
	}
	want := map[string]string{"memory.limit_in_bytes": "268435456", "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000"}
	for file, v := range want {
		var got []byte
		for _, dir := range r.Cgroups {
			if b, err := os.ReadFile(filepath.Join(dir, file)); err == nil {
				got = b
			}
		}
		if strings.TrimSpace(string(got)) != v {
			t.Errorf("%s = %q, want %s", file, got, v)
		}
	}
	if err := s.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, dir := range r.Cgroups {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s not removed: %v", dir, err)
		}
	}
}

func TestCgroupV1MemoryLimitOOMKillsAndRestarts(t *testing.T) {
	requireCgroupV1(t)
	s, _ := newTestSupervisor(t, Config{})
	spec := testSpec(t, "v1", 1, "TS_ALLOC_MB=512")
	spec.Liveness.Path = "" // only the OOM kill may end it
	spec.Resources = Resources{MemoryBytes: 64 << 20}
	mustStart(t, s, spec)
	rs := waitUntil(t, s, "v1", 20*time.Second, "an OOM kill and a restart", func(rs []Replica) bool {
		return len(rs) == 1 && rs[0].OOMKills >= 1 && rs[0].Restarts >= 1
	})
	if !strings.Contains(rs[0].LastExit, "killed") || !strings.Contains(rs[0].LastExit, "OOM") {
		t.Errorf("LastExit = %q, want a SIGKILL by the OOM killer", rs[0].LastExit)
	}
	data, _ := os.ReadFile(rs[0].LogPath)
	if strings.Contains(string(data), "allocated 512 MiB") {
		t.Errorf("replica allocated beyond its limit:\n%s", data)
	}
}

func TestLimitsWithoutCgroupsFail(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestSupervisor(t, Config{})
	s.cg.mountTab = empty
	spec := testSpec(t, "v1", 1)
	spec.Resources.MemoryBytes = 64 << 20
	if err := s.Start(context.Background(), spec); !errors.Is(err, ErrCgroupsUnavailable) {
		t.Fatalf("Start with limits and no cgroups = %v, want ErrCgroupsUnavailable", err)
	}
	if n := len(s.Replicas("")); n != 0 {
		t.Errorf("%d replicas left after a failed start", n)
	}
	spec.Resources = Resources{}
	mustStart(t, s, spec) // no limits: no cgroups needed
}

func itoa(n int) string { return strconv.Itoa(n) }

func containsLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}
