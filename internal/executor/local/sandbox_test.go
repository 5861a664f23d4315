package local

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/executor"
)

// runHelper runs this test binary as a sandboxed step performing the
// actions in script (see helperMain) and returns each line's result.
func runHelper(t *testing.T, e *Executor, sb executor.Sandbox, script string) map[string]string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	job, out := testJob(t, script)
	job.Shell = []string{exe}
	job.Env = []string{helperEnv + "=1", "PATH=/usr/bin:/bin"}
	sb.Writable = append(sb.Writable, job.Dir)
	job.Sandbox = sb
	exit, err := runJob(t, e, job)
	if err != nil || !exit.Success() {
		t.Fatalf("helper: exit %+v, err %v, output %q", exit, err, out.String())
	}
	got := map[string]string{}
	for line := range strings.Lines(out.String()) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		got[k] = v
	}
	return got
}

// expect checks the result of each action.
func expect(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for action, w := range want {
		if g, ok := got[action]; !ok {
			t.Errorf("%s: no result", action)
		} else if g != w {
			t.Errorf("%s: %s, want %s", action, g, w)
		}
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSandboxFiles: what is hidden, writable and read-only.
func TestSandboxFiles(t *testing.T) {
	e := requireSandbox(t)
	home := t.TempDir()
	writeFile(t, home+"/.docker/config.json", "secret-config")
	writeFile(t, home+"/state/db", "secret-db")
	writeFile(t, home+"/state/tmp/keep", "")
	outside := t.TempDir()
	writeFile(t, outside+"/secret", "secret-outside")
	token := filepath.Join(t.TempDir(), "token")
	writeFile(t, token, "secret-token")
	if err := os.Symlink(token, home+"/link"); err != nil {
		t.Fatal(err)
	}
	readonly := t.TempDir()
	writeFile(t, readonly+"/file", "r")

	got := runHelper(t, e, executor.Sandbox{
		Mode:     executor.SandboxOn,
		Writable: []string{home, home + "/state/tmp"},
		Hidden:   []string{home + "/.docker/config.json", home + "/state", outside, home + "/link", "/nonexistent/hidden"},
	}, fmt.Sprintf(`
read %[1]s/.docker/config.json
write %[1]s/.docker/config.json
read %[1]s/state/db
write %[1]s/state/new
write %[1]s/state/tmp/x
read %[2]s/secret
read %[3]s
read %[1]s/link
read %[4]s/file
write %[4]s/file2
write %[1]s/ok
umount %[1]s/state
umount %[2]s
umount %[1]s/.docker/config.json
read %[1]s/state/db
`, home, outside, token, readonly))
	expect(t, got, map[string]string{
		"read " + home + "/.docker/config.json":   "ok 0 bytes", // appears as /dev/null
		"write " + home + "/.docker/config.json":  "ok",         // into /dev/null
		"read " + home + "/state/db":              "error: no such file or directory",
		"write " + home + "/state/new":            "ok", // the hiding tmpfs, thrown away
		"write " + home + "/state/tmp/x":          "ok",
		"read " + outside + "/secret":             "error: no such file or directory",
		"read " + token:                           "ok 0 bytes",
		"read " + home + "/link":                  "ok 0 bytes",
		"read " + readonly + "/file":              "ok 1 bytes",
		"write " + readonly + "/file2":            "error: read-only file system",
		"write " + home + "/ok":                   "ok",
		"umount " + home + "/state":               "denied",
		"umount " + outside:                       "denied",
		"umount " + home + "/.docker/config.json": "denied",
	})
	for path, want := range map[string]string{
		home + "/.docker/config.json": "secret-config",
		home + "/state/db":            "secret-db",
		outside + "/secret":           "secret-outside",
		token:                         "secret-token",
		home + "/ok":                  "x",
		home + "/state/tmp/x":         "x",
	} {
		if b, err := os.ReadFile(path); err != nil || string(b) != want {
			t.Errorf("host %s: %q, %v; want %q", path, b, err, want)
		}
	}
	for _, path := range []string{home + "/state/new", readonly + "/file2"} {
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("host %s exists after the step (%v): the sandbox wrote outside Writable", path, err)
		}
	}
}

// TestSandboxHostile: a step running as root cannot reach slipway or
// undo the sandbox; only strict mode cuts the network.
func TestSandboxHostile(t *testing.T) {
	e := requireSandbox(t)
	t.Setenv("SLIPWAY_SECRET_LEAK", "leak")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	mnt := t.TempDir()
	pid := strconv.Itoa(os.Getpid())
	mark := "slipway-test-" + strconv.Itoa(os.Getpid())
	script := fmt.Sprintf(`
write /usr/%[1]s
write /etc/%[1]s
write /tmp/%[1]s
mount %[2]s
caps
proc %[3]s
ptrace %[3]s
environ1
procs
dial %[4]s
`, mark, mnt, pid, ln.Addr())
	for _, tc := range []struct {
		mode executor.SandboxMode
		dial string
	}{
		{executor.SandboxOn, "ok"},
		{executor.SandboxStrict, "error: connection refused"},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			got := runHelper(t, e, executor.Sandbox{Mode: tc.mode, Writable: []string{mnt}}, script)
			expect(t, got, map[string]string{
				"write /usr/" + mark: "error: read-only file system",
				"write /etc/" + mark: "error: read-only file system",
				"write /tmp/" + mark: "error: read-only file system",
				"mount " + mnt:       "denied",
				"caps":               "self 0000000000000000 child 0000000000000000",
				"proc " + pid: "stat error: no such file or directory; environ error: no such file or directory; " +
					"root error: no such file or directory",
				"ptrace " + pid:              "error: no such process",
				"environ1":                   "ok 0 bytes", // bwrap starts with an empty environment
				"dial " + ln.Addr().String(): tc.dial,
			})
			// Only bwrap's reaper and the step itself exist in its world.
			if ps := strings.Split(got["procs"], ", "); len(ps) != 2 || ps[0] != "1 bwrap" {
				t.Errorf("visible processes: %q, want bwrap as pid 1 and the step", got["procs"])
			}
			for _, dir := range []string{"/usr/", "/etc/", "/tmp/"} {
				if _, err := os.Lstat(dir + mark); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s%s exists on the host", dir, mark)
				}
			}
		})
	}
}

// TestSandboxSetupFailure: when bwrap cannot build the sandbox, Wait says
// so with bwrap's reason, as an executor error.
func TestSandboxSetupFailure(t *testing.T) {
	e := requireSandbox(t)
	job, out := testJob(t, "exit 0")
	writeFile(t, job.Dir+"/hidden/sub/f", "")
	job.Dir += "/hidden/sub" // exists on the host, not in the sandbox
	job.Sandbox = executor.Sandbox{Mode: executor.SandboxOn, Hidden: []string{filepath.Dir(job.Dir)}}
	_, err := runJob(t, e, job)
	if !errors.Is(err, executor.ErrExecutor) || !strings.Contains(err.Error(), "Can't chdir to "+job.Dir) {
		t.Errorf("error %v, want ErrExecutor with bwrap's message; output %q", err, out.String())
	}
}

// TestMountPlan: parents are mounted before children and hiding wins ties.
func TestMountPlan(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"home/.docker", "home/state/tmp", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, root+"/home/.docker/config.json", "{}")
	if err := os.Symlink(root+"/other", root+"/home/alias"); err != nil {
		t.Fatal(err)
	}
	got, err := planMounts(executor.Sandbox{
		Writable: []string{root + "/home/state/tmp", root + "/home", root + "/other"},
		Hidden: []string{root + "/home/.docker/config.json", root + "/home/state", root + "/home/alias",
			root + "/home/missing"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, m := range got {
		args = append(args, strings.ReplaceAll(strings.Join(m.args(), " "), root, "R"))
	}
	want := []string{
		"--bind R/home R/home",
		"--bind R/other R/other",
		"--tmpfs R/other", // the symlink R/home/alias leads here
		"--tmpfs R/home/state",
		"--bind R/home/state/tmp R/home/state/tmp",
		"--dev-bind /dev/null R/home/.docker/config.json",
	}
	if strings.Join(args, "\n") != strings.Join(want, "\n") {
		t.Errorf("mounts:\n%s\nwant:\n%s", strings.Join(args, "\n"), strings.Join(want, "\n"))
	}
}
