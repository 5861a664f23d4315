package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ci/slipway/internal/config"
)

func TestOpenStateDir(t *testing.T) {
	for _, tc := range []struct {
		name string
		// prepare makes the state dir's surroundings; it returns the
		// configured StateDir and the absolute one expected.
		prepare func(t *testing.T) (dir, want string)
	}{
		{"created with its parents", func(t *testing.T) (string, string) {
			d := filepath.Join(t.TempDir(), "a", "b", "state")
			return d, d
		}},
		{"existing and open to others", func(t *testing.T) (string, string) {
			d := filepath.Join(t.TempDir(), "state")
			if err := os.Mkdir(d, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
			return d, d
		}},
		{"relative", func(t *testing.T) (string, string) {
			wd := t.TempDir()
			t.Chdir(wd)
			return "rel/state", filepath.Join(wd, "rel", "state")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, want := tc.prepare(t)
			cfg := config.Default(os.Getenv)
			cfg.StateDir = dir
			a := openApp(t, cfg)
			if a.Config.StateDir != want {
				t.Errorf("Config.StateDir = %q, want %q", a.Config.StateDir, want)
			}
			if a.Engine.StateDir != want {
				t.Errorf("Engine.StateDir = %q, want %q", a.Engine.StateDir, want)
			}
			for _, d := range []string{want, filepath.Join(want, "logs"), filepath.Join(want, "locks")} {
				fi, err := os.Stat(d)
				if err != nil {
					t.Fatal(err)
				}
				if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
					t.Errorf("%s: mode %v, want a directory with mode 0700", d, fi.Mode())
				}
			}
		})
	}
}

func TestCacheMACKey(t *testing.T) {
	cfg := config.Default(os.Getenv)
	cfg.StateDir = filepath.Join(t.TempDir(), "state")
	keyFile := filepath.Join(cfg.StateDir, "cache.key")
	open := func() []byte {
		t.Helper()
		a, err := Open(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		return a.Engine.CacheMAC
	}

	first := open()
	if len(first) != 32 {
		t.Fatalf("key of %d bytes, want 32", len(first))
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", keyFile, fi.Mode())
	}
	onDisk, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, first) {
		t.Error("the engine's key differs from the key file")
	}
	if again := open(); !bytes.Equal(again, first) {
		t.Error("the key changed when the state dir was opened again")
	}
	if bytes.Equal(first, make([]byte, 32)) {
		t.Error("the key is all zeros")
	}

	// A truncated key is replaced by a whole new one.
	writeFile(t, keyFile, "short", 0o600)
	if fresh := open(); len(fresh) != 32 || bytes.Equal(fresh, first) {
		t.Errorf("after truncation: key %x, want 32 new bytes", fresh)
	}

	// Two state dirs never share a key.
	cfg.StateDir = filepath.Join(t.TempDir(), "other")
	if other := open(); bytes.Equal(other, first) {
		t.Error("two state dirs got the same key")
	}
}

func TestHiddenPaths(t *testing.T) {
	home, docker, cfgHome, stateHome := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	wd := t.TempDir()
	t.Chdir(wd)
	cfg := config.Default(os.Getenv)
	cfg.StateDir = filepath.Join(t.TempDir(), "state")
	cfg.File = "slipway.yaml"
	cfg.SecretsFile = "secrets.yaml"
	a, err := Open(context.Background(), cfg, []string{"HOME=" + home, "DOCKER_CONFIG=" + docker, "XDG_CONFIG_HOME=" + cfgHome,
		"XDG_STATE_HOME=" + stateHome})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got := a.hiddenPaths()
	for _, want := range []string{
		cfg.StateDir,
		filepath.Join(cfgHome, "slipway"),
		filepath.Join(wd, "slipway.yaml"),
		filepath.Join(wd, "secrets.yaml"),
		filepath.Join(home, ".docker", "config.json"),
		filepath.Join(home, ".config", "slipway"),
		filepath.Join(docker, "config.json"),
		// The default state dirs, when another one is in use: they hold
		// keys and passphrases too.
		filepath.Join(stateHome, "slipway"),
		filepath.Join(home, ".local", "state", "slipway"),
	} {
		if !slices.Contains(got, want) {
			t.Errorf("hiddenPaths() = %q, missing %s", got, want)
		}
	}
	if !slices.Equal(a.Engine.Hidden, got) {
		t.Errorf("Engine.Hidden = %q, want %q", a.Engine.Hidden, got)
	}
	for _, p := range got {
		if !filepath.IsAbs(p) {
			t.Errorf("hidden path %q is not absolute", p)
		}
	}
}

// TestHiddenPathsWithoutHome: with neither HOME nor XDG_CONFIG_HOME set (a
// systemd unit, env -i), config.DefaultFile() is "" and filepath.Dir("")
// is ".", a relative hidden path that the local executor rejects ("hidden
// path: \".\" is not absolute"), so every sandboxed step fails to start.
func TestHiddenPathsWithoutHome(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	cfg := config.Default(os.Getenv)
	cfg.StateDir = filepath.Join(t.TempDir(), "state")
	a, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, p := range a.hiddenPaths() {
		if !filepath.IsAbs(p) {
			t.Errorf("hidden path %q is not absolute", p)
		}
	}
}

func TestBaseEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string
	}{
		{"defaults", nil, []string{"LANG=C.UTF-8", "PATH=/usr/local/bin:/usr/bin:/bin"}},
		{
			"kept and dropped",
			[]string{"PATH=/opt/bin", "HOME=/home/u", "LANG=fr_FR.UTF-8", "TERM=xterm", "USER=u", "LOGNAME=u",
				"SLIPWAY_SECRET_TOKEN=s3cr3t", "AWS_SECRET_ACCESS_KEY=k", "PATHX=no", "HOMEY=no", "SSH_AUTH_SOCK=/s"},
			[]string{"HOME=/home/u", "LANG=fr_FR.UTF-8", "PATH=/opt/bin"},
		},
		{"last wins", []string{"PATH=/a", "PATH=/b"}, []string{"LANG=C.UTF-8", "PATH=/b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := baseEnv(tc.environ)
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("baseEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookupEnv(t *testing.T) {
	a := &App{Environ: []string{"HOME=/one", "HOMEDIR=/no", "EMPTY=", "HOME=/two", "=x", "BARE"}}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"HOME", "/two", true},
		{"EMPTY", "", true},
		{"HOM", "", false},
		{"BARE", "", false},
		{"MISSING", "", false},
	} {
		got, ok := a.lookupEnv(tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("lookupEnv(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSandboxDefault(t *testing.T) {
	a := newApp(t)
	for _, mode := range []string{"on", "off", "strict"} {
		a.Config.Sandbox = mode
		if got := a.SandboxDefault(); got != mode {
			t.Errorf("SandboxDefault() with %q = %q", mode, got)
		}
	}
	a.Config.Sandbox = "auto"
	want := "off"
	if a.Local.SandboxAvailable() {
		want = "on"
	}
	if got := a.SandboxDefault(); got != want {
		t.Errorf("SandboxDefault() with auto = %q, want %q", got, want)
	}
}

// TestSandboxHidesState runs a sandboxed step that looks for the state
// dir's key, the secrets file and the docker credentials.
func TestSandboxHidesState(t *testing.T) {
	cfg := config.Default(os.Getenv)
	cfg.StateDir = filepath.Join(t.TempDir(), "state")
	secretsFile := filepath.Join(t.TempDir(), "secrets.yaml")
	writeFile(t, secretsFile, "TOKEN: hunter2\n", 0o600)
	cfg.SecretsFile = secretsFile
	a := openApp(t, cfg)
	if err := a.Local.CheckSandbox(context.Background()); err != nil {
		t.Skipf("no sandbox here: %v", err)
	}
	home := a.env("HOME")
	writeFile(t, filepath.Join(home, ".docker", "config.json"), `{"auths":{}}`, 0o600)
	project := t.TempDir()
	out := filepath.Join(project, "seen")
	writeFile(t, filepath.Join(project, ".slipway.yaml"), `steps:
  look:
    run: |
      for f in `+a.Config.StateDir+`/cache.key `+a.Config.StateDir+`/slipway.db `+secretsFile+` `+home+`/.docker/config.json; do
        if [ -s "$f" ]; then echo "$f" >> seen; fi
      done
      touch done
`, 0o644)
	o := RunOptions{Dir: project, Options: offOptions()}
	o.Sandbox = "on"
	res, err := a.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != "success" || !exists(t, filepath.Join(project, "done")) {
		t.Fatalf("run %s (%s): the step did not run", res.Run.Status, res.Run.Error)
	}
	if seen, err := os.ReadFile(out); err == nil {
		t.Errorf("a sandboxed step read: %s", strings.TrimSpace(string(seen)))
	}
}
