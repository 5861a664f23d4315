package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // registers "filesystem"
	"github.com/distribution/reference"
	"github.com/sirupsen/logrus"
)

func dataDir(stateDir string) string { return filepath.Join(registryDir(stateDir), "data") }

var quietOnce sync.Once

// quietDistribution silences distribution's process-wide logrus logger
// (it logs every 404 at error level) and keeps its tracing from dialling
// localhost:4318.
func quietDistribution() {
	quietOnce.Do(func() {
		if os.Getenv("OTEL_TRACES_EXPORTER") == "" {
			os.Setenv("OTEL_TRACES_EXPORTER", "none")
		}
		logrus.SetOutput(io.Discard)
		logrus.SetLevel(logrus.ErrorLevel)
	})
}

// distConfig is the distribution configuration of the embedded registry.
func distConfig(stateDir, secret string) *configuration.Configuration {
	c := &configuration.Configuration{Version: "0.1"}
	c.Log.AccessLog.Disabled = true
	c.Log.Level = "error"
	c.HTTP.Secret = secret
	c.Storage = configuration.Storage{
		"filesystem": configuration.Parameters{"rootdirectory": dataDir(stateDir)},
		// The policy wrapper decides who may delete.
		"delete": configuration.Parameters{"enabled": true},
	}
	return c
}

// openStorage opens the registry's storage directly, for reads beside the
// server and for garbage collection.
func openStorage(ctx context.Context, stateDir string) (driver.StorageDriver, distribution.Namespace, error) {
	if err := os.MkdirAll(dataDir(stateDir), 0o700); err != nil {
		return nil, nil, fmt.Errorf("registry data dir: %w", err)
	}
	d, err := factory.Create(ctx, "filesystem", map[string]any{"rootdirectory": dataDir(stateDir)})
	if err != nil {
		return nil, nil, fmt.Errorf("registry storage: %w", err)
	}
	ns, err := storage.NewRegistry(ctx, d)
	if err != nil {
		return nil, nil, fmt.Errorf("registry storage: %w", err)
	}
	return d, ns, nil
}

// tagDigester returns a lookup of the digest a tag points to, "" if none.
func tagDigester(ns distribution.Namespace) func(ctx context.Context, repo, tag string) (string, error) {
	return func(ctx context.Context, repo, tag string) (string, error) {
		named, err := reference.WithName(repo)
		if err != nil {
			return "", fmt.Errorf("repository %q: %w", repo, err)
		}
		r, err := ns.Repository(ctx, named)
		if err != nil {
			return "", fmt.Errorf("repository %q: %w", repo, err)
		}
		desc, err := r.Tags(ctx).Get(ctx, tag)
		var unknown distribution.ErrTagUnknown
		switch {
		case errors.As(err, &unknown):
			return "", nil
		case err != nil:
			return "", fmt.Errorf("tag %s:%s: %w", repo, tag, err)
		}
		return desc.Digest.String(), nil
	}
}
