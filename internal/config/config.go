// Package config is slipway's own configuration: defaults, an optional YAML
// file, SLIPWAY_* environment variables and flags, in that order of
// precedence, validated with file:line:col errors.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/dustin/go-humanize"
	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/trust"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

// Config is slipway's configuration.
type Config struct {
	// File is the config file that was read ("" when none).
	File        string
	StateDir    string
	Parallel    int
	StepTimeout time.Duration
	RunTimeout  time.Duration
	Grace       time.Duration
	// Sandbox is the default for steps: auto (on when bwrap is installed),
	// on, off or strict.
	Sandbox     string
	SecretsFile string
	Retention   Retention
	Registry    Registry
	Artifacts   ArtifactRetention
	// CacheRemote shares step cache entries between state dirs and machines
	// through an OCI registry: "" = local only; CacheRemoteRegistry (or
	// "embedded") = the repository slipway/cache of the registry artifacts
	// go to (embedded or Registry.External); anything else is an OCI
	// repository "host[:port]/path", reached with Docker's credentials.
	CacheRemote string
	// CacheRemoteReadOnly looks entries up in CacheRemote but never pushes
	// (e.g. developer machines reading what CI filled).
	CacheRemoteReadOnly bool
	// Trust is the authoritative trust policy; repositories can only tighten it.
	Trust trust.Policy
}

// Registry says where artifacts go.
type Registry struct {
	// External is "host[:port][/prefix]" of an OCI registry used instead of
	// the embedded one; "" = the embedded registry of the state dir.
	External string
	// Insecure talks plain HTTP to External (loopback registries).
	Insecure bool
}

// ArtifactRetention is the default policy of `slipway artifact gc`.
type ArtifactRetention struct {
	KeepLast    int           // newest artifacts kept per repository
	KeepYounger time.Duration // artifacts younger than this are kept
	// Window: a digest that was in any environment within it is kept.
	Window time.Duration
}

// Retention bounds what the state dir keeps.
type Retention struct {
	MaxAge       time.Duration // runs older than this are pruned (0 = keep)
	MaxRuns      int           // at most this many runs are kept (0 = no limit)
	CacheMaxSize int64         // bytes; least recently used entries go first
}

// Default returns the configuration used when nothing is set; getenv reads
// the environment (XDG_STATE_HOME, HOME).
func Default(getenv func(string) string) Config {
	return Config{
		StateDir:    DefaultStateDir(getenv),
		Parallel:    runtime.NumCPU(),
		StepTimeout: time.Hour,
		RunTimeout:  6 * time.Hour,
		Grace:       10 * time.Second,
		Sandbox:     "auto",
		Retention:   Retention{MaxAge: 30 * 24 * time.Hour, MaxRuns: 1000, CacheMaxSize: 5 << 30},
		Artifacts:   ArtifactRetention{KeepLast: 10, KeepYounger: 30 * 24 * time.Hour, Window: 90 * 24 * time.Hour},
	}
}

// DefaultStateDir is the state dir when none is configured:
// ${XDG_STATE_HOME:-$HOME/.local/state}/slipway.
func DefaultStateDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "slipway")
	}
	home := getenv("HOME")
	if home == "" {
		return filepath.Join(os.TempDir(), "slipway-state")
	}
	return filepath.Join(home, ".local", "state", "slipway")
}

// DefaultFile is where the config file is looked for when none is named
// ("" when neither XDG_CONFIG_HOME nor HOME is set).
func DefaultFile(getenv func(string) string) string {
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "slipway", "config.yaml")
}

// Load returns the configuration from defaults, the file (path, or the
// default file when path is "" and it exists) and the environment.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default(getenv)
	explicit := path != ""
	if !explicit {
		path = DefaultFile(getenv)
	}
	if path != "" {
		err := c.readFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !explicit:
		case err != nil:
			return c, err
		default:
			c.File = path
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	return c, c.Validate()
}

var fileKeys = []string{"state-dir", "parallel", "step-timeout", "run-timeout", "grace", "sandbox", "secrets-file", "retention",
	"registry", "artifacts", "cache-remote", "cache-remote-readonly", "trust"}

func (c *Config) readFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return c.parse(path, data)
}

// parse applies a config file's content.
func (c *Config) parse(name string, data []byte) error {
	root, err := yamlpos.Parse(name, data)
	if err != nil {
		return err
	}
	d := yamlpos.Decoder{File: name}
	for _, f := range d.Mapping(root, "config", fileKeys) {
		switch f.Name {
		case "state-dir":
			c.StateDir = d.String(f.Value, f.Name)
		case "parallel":
			c.Parallel = d.Int(f.Value, f.Name, 1, 1024)
		case "step-timeout":
			c.StepTimeout = d.Duration(f.Value, f.Name)
		case "run-timeout":
			c.RunTimeout = d.Duration(f.Value, f.Name)
		case "grace":
			c.Grace = d.Duration(f.Value, f.Name)
		case "sandbox":
			c.Sandbox = d.String(f.Value, f.Name)
			if err := checkSandbox(c.Sandbox); err != nil {
				d.Errorf(f.Value, "sandbox: %v", err)
			}
		case "secrets-file":
			c.SecretsFile = d.String(f.Value, f.Name)
		case "retention":
			c.readRetention(&d, f.Value)
		case "registry":
			c.readRegistry(&d, f.Value)
		case "artifacts":
			c.readArtifacts(&d, f.Value)
		case "cache-remote":
			c.CacheRemote = d.String(f.Value, f.Name)
			if err := CheckCacheRemote(c.CacheRemote); err != nil {
				d.Errorf(f.Value, "cache-remote: %v", err)
			}
		case "cache-remote-readonly":
			c.CacheRemoteReadOnly = d.Bool(f.Value, f.Name)
		case "trust":
			c.Trust = trust.Decode(&d, f.Value, "trust")
		}
	}
	return d.Err()
}

func (c *Config) readRetention(d *yamlpos.Decoder, n *yaml.Node) {
	for _, f := range d.Mapping(n, "retention", []string{"max-age", "max-runs", "cache-max-size"}) {
		switch f.Name {
		case "max-age":
			c.Retention.MaxAge = d.Duration(f.Value, "retention.max-age")
		case "max-runs":
			c.Retention.MaxRuns = d.Int(f.Value, "retention.max-runs", 0, 1<<30)
		case "cache-max-size":
			size, err := ParseSize(d.String(f.Value, "retention.cache-max-size"))
			if err != nil {
				d.Errorf(f.Value, "retention.cache-max-size: %v", err)
			}
			c.Retention.CacheMaxSize = size
		}
	}
}

func (c *Config) readRegistry(d *yamlpos.Decoder, n *yaml.Node) {
	for _, f := range d.Mapping(n, "registry", []string{"external", "insecure"}) {
		switch f.Name {
		case "external":
			c.Registry.External = d.String(f.Value, "registry.external")
		case "insecure":
			c.Registry.Insecure = d.Bool(f.Value, "registry.insecure")
		}
	}
}

func (c *Config) readArtifacts(d *yamlpos.Decoder, n *yaml.Node) {
	for _, f := range d.Mapping(n, "artifacts", []string{"keep-last", "keep-younger", "window"}) {
		switch f.Name {
		case "keep-last":
			c.Artifacts.KeepLast = d.Int(f.Value, "artifacts.keep-last", 0, 1<<30)
		case "keep-younger":
			c.Artifacts.KeepYounger = d.Duration(f.Value, "artifacts.keep-younger")
		case "window":
			c.Artifacts.Window = d.Duration(f.Value, "artifacts.window")
		}
	}
}

// EnvVars maps each environment variable to what it sets; every flag that
// configures slipway has one.
var EnvVars = []string{
	"SLIPWAY_STATE_DIR", "SLIPWAY_PARALLEL", "SLIPWAY_STEP_TIMEOUT", "SLIPWAY_RUN_TIMEOUT",
	"SLIPWAY_GRACE", "SLIPWAY_SANDBOX", "SLIPWAY_SECRETS_FILE", "SLIPWAY_RETENTION_MAX_AGE",
	"SLIPWAY_RETENTION_MAX_RUNS", "SLIPWAY_CACHE_MAX_SIZE", "SLIPWAY_REGISTRY", "SLIPWAY_REGISTRY_INSECURE",
	"SLIPWAY_CACHE_REMOTE", "SLIPWAY_CACHE_REMOTE_READONLY",
}

func (c *Config) applyEnv(getenv func(string) string) error {
	var errs []error
	set := func(name string, apply func(string) error) {
		if v := getenv(name); v != "" {
			if err := apply(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	}
	set("SLIPWAY_STATE_DIR", func(v string) error { c.StateDir = v; return nil })
	set("SLIPWAY_PARALLEL", func(v string) (err error) { c.Parallel, err = strconv.Atoi(v); return })
	set("SLIPWAY_STEP_TIMEOUT", func(v string) (err error) { c.StepTimeout, err = time.ParseDuration(v); return })
	set("SLIPWAY_RUN_TIMEOUT", func(v string) (err error) { c.RunTimeout, err = time.ParseDuration(v); return })
	set("SLIPWAY_GRACE", func(v string) (err error) { c.Grace, err = time.ParseDuration(v); return })
	set("SLIPWAY_SANDBOX", func(v string) error { c.Sandbox = v; return nil })
	set("SLIPWAY_SECRETS_FILE", func(v string) error { c.SecretsFile = v; return nil })
	set("SLIPWAY_RETENTION_MAX_AGE", func(v string) (err error) { c.Retention.MaxAge, err = time.ParseDuration(v); return })
	set("SLIPWAY_RETENTION_MAX_RUNS", func(v string) (err error) { c.Retention.MaxRuns, err = strconv.Atoi(v); return })
	set("SLIPWAY_CACHE_MAX_SIZE", func(v string) (err error) { c.Retention.CacheMaxSize, err = ParseSize(v); return })
	set("SLIPWAY_REGISTRY", func(v string) error { c.Registry.External = v; return nil })
	set("SLIPWAY_REGISTRY_INSECURE", func(v string) (err error) { c.Registry.Insecure, err = strconv.ParseBool(v); return })
	set("SLIPWAY_CACHE_REMOTE", func(v string) error { c.CacheRemote = v; return CheckCacheRemote(v) })
	set("SLIPWAY_CACHE_REMOTE_READONLY", func(v string) (err error) { c.CacheRemoteReadOnly, err = strconv.ParseBool(v); return })
	return errors.Join(errs...)
}

// Validate checks values that every source can get wrong.
func (c Config) Validate() error {
	var errs []error
	if c.StateDir == "" {
		errs = append(errs, errors.New("state dir: must not be empty"))
	}
	if c.Parallel < 1 {
		errs = append(errs, fmt.Errorf("parallel: must be at least 1, not %d", c.Parallel))
	}
	for name, d := range map[string]time.Duration{"step timeout": c.StepTimeout, "run timeout": c.RunTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive", name))
		}
	}
	if c.Grace < 0 {
		errs = append(errs, errors.New("grace: must not be negative"))
	}
	if err := checkSandbox(c.Sandbox); err != nil {
		errs = append(errs, fmt.Errorf("sandbox: %w", err))
	}
	if c.Retention.MaxAge < 0 || c.Retention.MaxRuns < 0 || c.Retention.CacheMaxSize < 0 {
		errs = append(errs, errors.New("retention: limits must not be negative"))
	}
	if err := CheckCacheRemote(c.CacheRemote); err != nil {
		errs = append(errs, fmt.Errorf("cache-remote: %w", err))
	}
	return errors.Join(errs...)
}

func checkSandbox(s string) error {
	switch s {
	case "auto", "on", "off", "strict":
		return nil
	}
	return fmt.Errorf("%q is not one of auto, on, off, strict", s)
}

// ParseSize reads a size such as 500MB, 5GiB or 1073741824.
func ParseSize(s string) (int64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("bad size %q (use e.g. 500MB or 5GiB)", s)
	}
	if n > 1<<62 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(n), nil
}
