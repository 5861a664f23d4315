package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/artifact"
	"github.com/slipway-ci/slipway/internal/cache"
	"github.com/slipway-ci/slipway/internal/config"
)

// CacheRepo is the repository of the remote step cache in the registry
// artifacts go to (cache-remote: registry).
const CacheRepo = "slipway/cache"

// remoteRetry is how long steps use only the local cache after the remote
// one was unreachable, so a registry that is down costs one attempt, not
// one per step.
const remoteRetry = time.Minute

// remoteBackoff retries a failed request twice, quickly: a cache miss is
// cheaper than a long wait.
var remoteBackoff = remote.Backoff{Duration: 200 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 3}

// remoteHeaderTimeout bounds each wait for the registry's answer (not a
// download): a registry that accepts connections and never answers would
// otherwise hold every cacheable step until the step's timeout.
var remoteHeaderTimeout = 30 * time.Second

// engineCache is the cache the engine serves steps from: the state dir's,
// or with cache-remote set, the state dir's in front of a registry that is
// reached (or served) only when a lookup misses locally.
//
// Sharing between state dirs works although each has its own cache.key:
// entries are not MAC'd; cache.key only hashes secret values into the keys
// of steps that declare secrets, so those steps are shared only between
// state dirs holding the same cache.key. A remote entry is trusted as far
// as the repository's write access: Get checks that the entry names its key
// and that every blob matches its digest, not who pushed it.
func (a *App) engineCache() cache.Backend {
	c := a.Config
	if c.CacheRemote == "" {
		return a.Cache
	}
	l := &lazyRemote{local: a.Cache, opts: cache.RemoteOptions{Local: a.Cache, Blobs: a.Blobs, ReadOnly: c.CacheRemoteReadOnly},
		retry: remoteRetry, now: time.Now, transport: headerTimeout(remoteHeaderTimeout)}
	if config.CacheRemoteInRegistry(c.CacheRemote) {
		l.connect = a.registryCache
	} else {
		l.connect = func(context.Context) (name.Repository, []remote.Option, error) {
			return externalCache(c.CacheRemote, c.Registry.Insecure)
		}
	}
	return l
}

// registryCache is CacheRepo in the registry artifacts go to, with its
// credentials (the embedded registry's admin, or Docker's for an external).
func (a *App) registryCache(ctx context.Context) (name.Repository, []remote.Option, error) {
	// An in-process registry serves as long as the context it was started
	// with: the step's must not end it.
	ctx = context.WithoutCancel(ctx)
	_, client, err := a.Release.Registry(ctx)
	if err != nil {
		return name.Repository{}, nil, err
	}
	repo, err := a.Release.Repository(ctx, CacheRepo)
	if err != nil {
		return name.Repository{}, nil, err
	}
	return repo, client.Options(ctx), nil
}

// externalCache is a repository of its own, reached with Docker's
// credentials; insecure allows plain HTTP.
func externalCache(ref string, insecure bool) (name.Repository, []remote.Option, error) {
	opts := []name.Option{name.StrictValidation}
	if insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(ref, opts...)
	if err != nil {
		return name.Repository{}, nil, fmt.Errorf("cache-remote: %w", err)
	}
	client := artifact.NewClient(artifact.ClientOptions{Insecure: insecure, Keychain: authn.DefaultKeychain,
		UserAgent: "slipway/" + Version})
	return repo, client.Options(context.Background()), nil
}

// headerTimeout is go-containerregistry's default transport with a bound
// on the wait for response headers and for a TLS handshake.
func headerTimeout(d time.Duration) http.RoundTripper {
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = d
	t.TLSHandshakeTimeout = min(t.TLSHandshakeTimeout, d)
	return t
}

// lazyRemote is a cache.Remote created on the first local miss. When the
// registry cannot be reached it reports that once (as an error without
// cache.ErrMiss, which the engine shows as a notice before running the
// step) and then serves from the local cache alone for a while.
type lazyRemote struct {
	local     *cache.Local
	opts      cache.RemoteOptions // Repo and Remote come from connect
	connect   func(context.Context) (name.Repository, []remote.Option, error)
	retry     time.Duration
	now       func() time.Time
	transport http.RoundTripper

	mu        sync.Mutex
	remote    *cache.Remote
	where     string // the repository, for messages
	downUntil time.Time
}

var _ cache.Backend = (*lazyRemote)(nil)

// Get looks in the local cache, then in the registry.
func (l *lazyRemote) Get(ctx context.Context, key string) (*cache.Entry, error) {
	e, err := l.local.Get(ctx, key)
	if !errors.Is(err, cache.ErrMiss) {
		return e, err
	}
	r, err := l.get(ctx)
	if r == nil && err == nil {
		return nil, cache.ErrMiss
	}
	if r == nil {
		return nil, err
	}
	e, err = r.Get(ctx, key)
	if errors.Is(err, cache.ErrRemoteUnavailable) {
		return nil, l.down(withoutMiss(err))
	}
	return e, err
}

// Put records the entry locally and, unless read-only or down, pushes it.
func (l *lazyRemote) Put(ctx context.Context, e *cache.Entry) error {
	if l.opts.ReadOnly {
		return l.local.Put(ctx, e)
	}
	r, err := l.get(ctx)
	if r == nil {
		return errors.Join(l.local.Put(ctx, e), err)
	}
	err = r.Put(ctx, e)
	if errors.Is(err, cache.ErrRemoteUnavailable) {
		return l.down(err)
	}
	return err
}

// get returns the remote, connecting on first use; nil while the registry
// is down, with the error to report the first time.
func (l *lazyRemote) get(ctx context.Context) (*cache.Remote, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.now().Before(l.downUntil) {
		return nil, nil
	}
	if l.remote != nil {
		return l.remote, nil
	}
	repo, opts, err := l.connect(ctx)
	if err != nil {
		l.downUntil = l.now().Add(l.retry)
		return nil, fmt.Errorf("%w: %w; using the local cache only for %s", cache.ErrRemoteUnavailable, err, l.retry)
	}
	o := l.opts
	o.Repo, o.Remote = repo, append(opts, remote.WithTransport(l.transport), remote.WithRetryBackoff(remoteBackoff))
	l.remote, l.where = cache.NewRemote(o), repo.String()
	return l.remote, nil
}

// down marks the registry unreachable for a while and says so.
func (l *lazyRemote) down(err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.downUntil = l.now().Add(l.retry)
	return fmt.Errorf("remote cache %s: %w; using the local cache only for %s", l.where, err, l.retry)
}

// withoutMiss drops cache.ErrMiss from a chain joined with %w: %w, so the
// engine reports the error instead of treating it as a plain miss.
func withoutMiss(err error) error {
	multi, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	var keep []error
	for _, e := range multi.Unwrap() {
		if e != cache.ErrMiss {
			keep = append(keep, e)
		}
	}
	if len(keep) == 1 {
		return keep[0]
	}
	return errors.Join(keep...)
}
