// Package release moves artifacts from a commit towards production: it
// publishes (builds once, pushes, records), attaches SBOMs, signs, attests
// provenance, verifies against the trust policy, and promotes one digest
// from environment to environment by moving a tag. It wires the registry,
// the artifact client, the signing keys and the store together; the pieces
// themselves live in internal/artifact, internal/registry and
// internal/supplychain.
package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/internal/artifact"
	"github.com/slipway-ci/slipway/internal/config"
	"github.com/slipway-ci/slipway/internal/registry"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/trust"
)

// ErrRefused is wrapped by every refusal of the trust policy or of the
// environments' order: the artifact is fine to keep, not to use.
var ErrRefused = errors.New("refused")

// Options configure a Service.
type Options struct {
	StateDir  string
	Artifacts store.Artifacts
	Registry  config.Registry
	Trust     trust.Policy
	Getenv    func(string) string
	Version   string // slipway's version, for provenance
	Log       io.Writer
}

// Service is the release machinery of one state dir. Safe for concurrent use.
type Service struct {
	o      Options
	parent *Service // a step's view shares its parent's registry connection

	mu      sync.Mutex
	host    string // registry host[:port][/prefix]
	client  *artifact.Client
	release func() error
}

// New returns a Service; the registry is reached (or served) on first use.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	return &Service{o: o}
}

// Close stops the registry when this process served it.
func (s *Service) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release == nil {
		return nil
	}
	err := s.release()
	s.release, s.client, s.host = nil, nil, ""
	return err
}

// Reconnect forgets the registry in use when another process served it,
// so the next use finds the current one: `slipway up` calls it after it
// takes the registry over from a `slipway run` that has ended.
func (s *Service) Reconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.o.Registry.External == "" && s.release != nil {
		s.release() // a no-op for a registry another process served
		s.release, s.client, s.host = nil, nil, ""
	}
}

// Registry returns the registry host (with any prefix) and a client for it:
// the configured external registry, or the state dir's embedded one (the
// running one, or served in-process until Close).
func (s *Service) Registry(ctx context.Context) (string, *artifact.Client, error) {
	if s.parent != nil {
		return s.parent.Registry(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.host, s.client, nil
	}
	if ext := s.o.Registry.External; ext != "" {
		s.host = strings.TrimSuffix(ext, "/")
		s.client = artifact.NewClient(artifact.ClientOptions{Insecure: s.o.Registry.Insecure, Keychain: authn.DefaultKeychain,
			UserAgent: "slipway/" + s.o.Version})
		s.release = func() error { return nil }
		return s.host, s.client, nil
	}
	// The registry outlives the step that first needs it: Close stops it.
	addr, release, err := registry.Ensure(context.WithoutCancel(ctx), s.o.StateDir, s.logf)
	if err != nil {
		return "", nil, fmt.Errorf("embedded registry: %w", err)
	}
	creds, err := registry.Credentials(s.o.StateDir)
	if err != nil {
		release()
		return "", nil, fmt.Errorf("embedded registry: %w", err)
	}
	s.host, s.release = addr, release
	s.client = artifact.NewClient(artifact.ClientOptions{Insecure: true, UserAgent: "slipway/" + s.o.Version,
		Auth: map[string]authn.Authenticator{hostOf(addr): authn.FromConfig(authn.AuthConfig{Username: "slipway-admin", Password: creds.Admin})}})
	return s.host, s.client, nil
}

// Embedded reports whether artifacts go to the state dir's own registry.
func (s *Service) Embedded() bool { return s.o.Registry.External == "" }

func hostOf(hostPrefix string) string { h, _, _ := strings.Cut(hostPrefix, "/"); return h }

// Repository names repo ("hello", "team/hello") in the registry.
func (s *Service) Repository(ctx context.Context, repo string) (name.Repository, error) {
	host, _, err := s.Registry(ctx)
	if err != nil {
		return name.Repository{}, err
	}
	opts := []name.Option{name.StrictValidation}
	if s.o.Registry.Insecure || s.Embedded() {
		opts = append(opts, name.Insecure)
	}
	r, err := name.NewRepository(host+"/"+repo, opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("repository %q: %w", repo, err)
	}
	return r, nil
}

// Ref is an artifact reference as records keep it: repo@sha256:..., no host.
type Ref struct {
	Repo   string
	Digest string // "" when only a tag was given
	Tag    string
}

func (r Ref) String() string {
	if r.Digest != "" {
		return r.Repo + "@" + r.Digest
	}
	return r.Repo + ":" + r.Tag
}

// ParseRef reads "repo@sha256:hex", "repo:tag" or "repo" (tag latest is not
// assumed: a bare repo is an error), with or without the registry host.
func (s *Service) ParseRef(ctx context.Context, ref string) (Ref, error) {
	host, _, err := s.Registry(ctx)
	if err != nil {
		return Ref{}, err
	}
	ref = strings.TrimPrefix(ref, host+"/")
	repo, digest, hasDigest := strings.Cut(ref, "@")
	if hasDigest {
		if !strings.HasPrefix(digest, "sha256:") || len(digest) != 71 {
			return Ref{}, fmt.Errorf("%q: a digest is sha256: and 64 hex digits", ref)
		}
		return Ref{Repo: repo, Digest: digest}, nil
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return Ref{}, fmt.Errorf("%q: name an artifact by digest (repo@sha256:...) or by tag (repo:v1.2.3)", ref)
	}
	return Ref{Repo: ref[:i], Tag: ref[i+1:]}, nil
}

func (s *Service) logf(format string, args ...any) { fmt.Fprintf(s.o.Log, format+"\n", args...) }

// keysDir holds the state dir's signing and provenance keys.
func (s *Service) keysDir() string { return filepath.Join(s.o.StateDir, "keys") }
