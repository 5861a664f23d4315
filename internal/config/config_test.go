package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/trust"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadFile(t *testing.T) {
	c, err := Load("testdata/good.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{File: "testdata/good.yaml", StateDir: "/var/lib/slipway", Parallel: 8, StepTimeout: 30 * time.Minute,
		RunTimeout: 2 * time.Hour, Grace: 5 * time.Second, Sandbox: "strict", SecretsFile: "/etc/slipway/secrets.yaml",
		Retention:   Retention{MaxAge: 168 * time.Hour, MaxRuns: 50, CacheMaxSize: 2 << 30},
		Registry:    Registry{External: "127.0.0.1:5000/team", Insecure: true},
		Artifacts:   ArtifactRetention{KeepLast: 3, KeepYounger: 48 * time.Hour, Window: 720 * time.Hour},
		CacheRemote: "127.0.0.1:5000/team/cache", CacheRemoteReadOnly: true,
		Trust: trust.Policy{Set: true, Builder: "https://slipway.dev/builder/local", Sources: []string{"github.com/acme/hello"},
			Require: []string{"signature"}, Environments: map[string][]string{"production": {"provenance", "sbom"}},
			Keys: []trust.Key{{Name: "release", Public: "keys/release.pub", NotAfter: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)},
				{Name: "old", Public: "keys/old.pub", Revoked: true}}}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestEnvOverridesFile(t *testing.T) {
	c, err := Load("testdata/good.yaml", env(map[string]string{
		"SLIPWAY_PARALLEL": "3", "SLIPWAY_STATE_DIR": "/tmp/s", "SLIPWAY_CACHE_MAX_SIZE": "10MB", "SLIPWAY_SANDBOX": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Parallel != 3 || c.StateDir != "/tmp/s" || c.Retention.CacheMaxSize != 10_000_000 || c.Sandbox != "off" || c.Grace != 5*time.Second {
		t.Errorf("got %+v", c)
	}
}

func TestDefaults(t *testing.T) {
	home := t.TempDir()
	c, err := Load("", env(map[string]string{"HOME": home}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Parallel < 1 || c.Sandbox != "auto" || c.StateDir != home+"/.local/state/slipway" || c.File != "" {
		t.Errorf("defaults = %+v", c)
	}
	if c, _ := Load("", env(map[string]string{"XDG_STATE_HOME": "/s"})); c.StateDir != "/s/slipway" {
		t.Errorf("XDG_STATE_HOME: state dir %s", c.StateDir)
	}
}

func TestBadConfigs(t *testing.T) {
	tests := []struct{ file, want string }{
		{"testdata/bad_keys.yaml", `testdata/bad_keys.yaml:1:1: config: unknown key "paralel" (did you mean "parallel"?)
testdata/bad_keys.yaml:3:3: retention: unknown key "max-ag" (did you mean "max-age"?)`},
		{"testdata/bad_values.yaml", `testdata/bad_values.yaml:1:11: parallel must be between 1 and 1024, not 0
testdata/bad_values.yaml:2:15: step-timeout must be a duration such as 30s, 10m or 1h
testdata/bad_values.yaml:3:10: sandbox: "maybe" is not one of auto, on, off, strict
testdata/bad_values.yaml:5:19: retention.cache-max-size: bad size "lots" (use e.g. 500MB or 5GiB)
testdata/bad_values.yaml:6:15: cache-remote: "team/cache" is not registry, embedded or an OCI repository host[:port]/path`},
		{"testdata/bad_syntax.yaml", "testdata/bad_syntax.yaml:1:11: invalid YAML: sequence end token"},
		{"testdata/missing.yaml", "no such file"},
	}
	for _, tt := range tests {
		_, err := Load(tt.file, env(nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error\n%v\nwant it to contain\n%s", tt.file, err, tt.want)
		}
	}
	if _, err := Load("", env(map[string]string{"SLIPWAY_PARALLEL": "many"})); err == nil || !strings.Contains(err.Error(), "SLIPWAY_PARALLEL") {
		t.Errorf("bad env: %v", err)
	}
}

func TestCacheRemote(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"", true},
		{"registry", true},
		{"embedded", true},
		{"127.0.0.1:5000/slipway/cache", true},
		{"ghcr.io/acme/slipway-cache", true},
		{"localhost/cache", true},
		{"team/cache", false},         // no host: would be Docker Hub
		{"ghcr.io", false},            // no path
		{"ghcr.io/", false},           // empty path
		{"ghcr.io/Acme/cache", false}, // upper case
		{"ghcr.io/acme/cache:v1", false},
		{"ghcr.io/acme/cache@sha256:" + strings.Repeat("0", 64), false},
		{"Registry", false},
	}
	for _, tt := range tests {
		if err := CheckCacheRemote(tt.value); (err == nil) != tt.ok {
			t.Errorf("CheckCacheRemote(%q) = %v, want ok %v", tt.value, err, tt.ok)
		}
	}
	c, err := Load("", env(map[string]string{"SLIPWAY_CACHE_REMOTE": "registry", "SLIPWAY_CACHE_REMOTE_READONLY": "1"}))
	if err != nil || c.CacheRemote != "registry" || !c.CacheRemoteReadOnly {
		t.Errorf("env: %+v, %v", c, err)
	}
	_, err = Load("", env(map[string]string{"SLIPWAY_CACHE_REMOTE": "cache"}))
	if err == nil || !strings.Contains(err.Error(), `SLIPWAY_CACHE_REMOTE="cache"`) {
		t.Errorf("bad env value: %v", err)
	}
	bad := Default(env(nil))
	bad.CacheRemote = "nohost"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "cache-remote") {
		t.Errorf("Validate: %v", err)
	}
}

func FuzzConfigFile(f *testing.F) {
	for _, name := range []string{"testdata/good.yaml", "testdata/bad_keys.yaml", "testdata/bad_values.yaml", "testdata/bad_syntax.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default(os.Getenv)
		if err := c.parse("config.yaml", data); err != nil && !strings.HasPrefix(err.Error(), "config.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
