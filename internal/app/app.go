// Package app wires slipway together: configuration → state dir → store,
// content store, cache, executors → engine. The CLI and end-to-end tests use
// one App per process.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/cache"
	"github.com/slipway-ci/slipway/internal/cas"
	"github.com/slipway-ci/slipway/internal/config"
	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/executor"
	"github.com/slipway-ci/slipway/internal/executor/local"
	"github.com/slipway-ci/slipway/internal/gatekeeper"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/release"
	"github.com/slipway-ci/slipway/internal/store/sqlite"
)

// App is slipway with its state dir open.
type App struct {
	Config  config.Config
	Store   *sqlite.DB
	Blobs   *cas.Store
	Cache   *cache.Local
	Local   *local.Executor
	Actions *action.Registry
	Engine  *engine.Engine
	// Release publishes, signs, verifies and promotes artifacts.
	Release *release.Service
	// Gatekeeper runs the security scanners and the gate.
	Gatekeeper *gatekeeper.Service
	// Environ is slipway's own environment (os.Environ in production).
	Environ []string
	// BlobGrace is how old unreferenced content must be to be swept.
	BlobGrace time.Duration
}

// Open opens the state dir named by cfg, creating it (0700) when needed.
func Open(ctx context.Context, cfg config.Config, environ []string) (*App, error) {
	dir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	cfg.StateDir = dir
	for _, d := range []string{dir, filepath.Join(dir, "logs"), filepath.Join(dir, "locks")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("state dir: %w", err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "slipway.db"))
	if err != nil {
		return nil, err
	}
	blobs, err := cas.Open(filepath.Join(dir, "cas"))
	if err != nil {
		db.Close()
		return nil, err
	}
	mac, err := cacheMACKey(filepath.Join(dir, "cache.key"))
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &App{Config: cfg, Store: db, Blobs: blobs, Cache: cache.NewLocal(db.CacheIndex(), blobs),
		Local: local.New(local.Options{}), Environ: environ, BlobGrace: DefaultBlobGrace}
	a.Release = release.New(release.Options{StateDir: dir, Artifacts: db.Artifacts(), Registry: cfg.Registry,
		Trust: cfg.Trust, Getenv: a.env, Version: Version})
	a.Gatekeeper = gatekeeper.New(gatekeeper.Options{Scans: db.Scans(), StateDir: dir, Tests: db.Tests(),
		LoadSpec: func(path string) (*pipeline.Spec, error) { return pipeline.Load(path, a.Actions) },
		Scanners: scanners(a.env("SLIPWAY_VULNDB_SOURCE"), a.Release)})
	a.Actions = action.NewRegistry(append(append(a.Release.Actions(), a.Gatekeeper.Actions()...), deployAction{a})...)
	a.Engine = &engine.Engine{
		Store: db, Blobs: blobs, Cache: a.engineCache(), Actions: a.Actions, StateDir: dir, CacheMAC: mac,
		Executors: map[string]executor.Executor{"local": a.Local},
		Hidden:    a.hiddenPaths(), BaseEnv: baseEnv(environ), LookupEnv: a.lookupEnv,
		Now: time.Now,
	}
	return a, nil
}

// Version is slipway's version, set by the CLI; it goes into provenance.
var Version = "dev"

// Close releases the state dir (and the registry when this process served it).
func (a *App) Close() error {
	return errors.Join(a.Release.Close(), a.Store.Close())
}

// SandboxDefault resolves the configured default sandbox mode: "auto" is on
// where bwrap is available.
func (a *App) SandboxDefault() string {
	if a.Config.Sandbox != "auto" {
		return a.Config.Sandbox
	}
	if a.Local.SandboxAvailable() {
		return "on"
	}
	return "off"
}

// hiddenPaths are what sandboxed steps must not see: the state dir (keys,
// database, cache), slipway's config and secrets files, registry
// credentials, and the machine's temporary directories, where other state
// dirs and other builds' files may lie (steps get private empty ones; the
// workspace and the step's TMPDIR stay reachable even when inside them).
func (a *App) hiddenPaths() []string {
	home := a.env("HOME")
	// Every state dir this user may have, not only the one in use: each
	// holds keys and their passphrases.
	paths := []string{a.Config.StateDir, config.DefaultStateDir(a.env), os.TempDir(), "/tmp", "/var/tmp"}
	if f := config.DefaultFile(a.env); f != "" {
		paths = append(paths, filepath.Dir(f))
	}
	for _, p := range []string{a.Config.File, a.Config.SecretsFile} {
		if p != "" {
			if abs, err := filepath.Abs(p); err == nil {
				paths = append(paths, abs)
			}
		}
	}
	if home != "" {
		paths = append(paths, filepath.Join(home, ".docker", "config.json"),
			filepath.Join(home, ".config", "slipway"), filepath.Join(home, ".local", "state", "slipway"))
	}
	if d := a.env("DOCKER_CONFIG"); d != "" {
		paths = append(paths, filepath.Join(d, "config.json"))
	}
	return paths
}

func (a *App) env(name string) string {
	v, _ := a.lookupEnv(name)
	return v
}

func (a *App) lookupEnv(name string) (string, bool) {
	for i := len(a.Environ) - 1; i >= 0; i-- {
		if len(a.Environ[i]) > len(name) && a.Environ[i][len(name)] == '=' && a.Environ[i][:len(name)] == name {
			return a.Environ[i][len(name)+1:], true
		}
	}
	return "", false
}

// baseEnv is what every step starts from: PATH (so installed toolchains are
// found), HOME and LANG. Nothing else crosses over.
func baseEnv(environ []string) []string {
	keep := map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
	for _, kv := range environ {
		for _, k := range []string{"PATH", "HOME", "LANG"} {
			if len(kv) > len(k) && kv[:len(k)+1] == k+"=" {
				keep[k] = kv[len(k)+1:]
			}
		}
	}
	var out []string
	for k, v := range keep {
		out = append(out, k+"="+v)
	}
	return out
}

// cacheMACKey is the per-state-dir key that hashes secret values into cache
// keys; it never leaves the state dir.
func cacheMACKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) == 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cache key: %w", err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("cache key: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, key, 0o600); err != nil {
		return nil, fmt.Errorf("cache key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("cache key: %w", err)
	}
	return os.ReadFile(path)
}
