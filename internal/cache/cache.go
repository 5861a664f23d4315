package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-ci/slipway/internal/cas"
	"github.com/slipway-ci/slipway/internal/store"
)

// ErrMiss is returned by Backend.Get when no usable entry exists.
var ErrMiss = errors.New("cache miss")

// Entry is a cached step result: its outputs tree and its log, both blobs
// of the local content store.
type Entry struct {
	Key     string
	Step    string
	Outputs cas.Digest // "" when the step declares no outputs
	Log     cas.Digest
	Size    int64
}

// Backend keeps cache entries.
//
// Lifecycle: one Backend per process, created at start-up. Concurrency: safe
// for concurrent use by every running step. Get returns ErrMiss (wrapped or
// not) when the key has no complete entry; when it returns an entry, every
// blob the entry names is present and verified-readable in the local content
// store (a remote backend downloads them first). Put records an entry whose
// blobs are already in the local content store (a remote backend uploads
// them). Neither ever stores a step's secrets: the engine refuses outputs
// and logs that contain them before calling Put.
type Backend interface {
	Get(ctx context.Context, key string) (*Entry, error)
	Put(ctx context.Context, e *Entry) error
}

// Local is the cache of one state dir: the index in the store, the content
// in the content store.
type Local struct {
	index store.CacheIndex
	blobs *cas.Store
	now   func() time.Time
}

var _ Backend = (*Local)(nil)

// NewLocal returns the state dir's cache.
func NewLocal(index store.CacheIndex, blobs *cas.Store) *Local {
	return &Local{index: index, blobs: blobs, now: time.Now}
}

// Get finds an entry and checks that its content is still all there.
func (l *Local) Get(ctx context.Context, key string) (*Entry, error) {
	rec, err := l.index.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, err
	}
	e := &Entry{Key: rec.Key, Step: rec.Step, Outputs: cas.Digest(rec.Outputs), Log: cas.Digest(rec.Log), Size: rec.Size}
	if !l.complete(e) {
		// Content was pruned or lost: forget the entry and run the step.
		if err := l.index.Delete(ctx, key); err != nil {
			return nil, err
		}
		return nil, ErrMiss
	}
	if err := l.index.Touch(ctx, key, l.now()); err != nil {
		return nil, err
	}
	return e, nil
}

func (l *Local) complete(e *Entry) bool {
	if e.Log != "" && !l.blobs.Has(e.Log) {
		return false
	}
	if e.Outputs == "" {
		return true
	}
	t, err := l.blobs.ReadTree(e.Outputs)
	if err != nil {
		return false
	}
	for _, d := range t.Blobs() {
		if !l.blobs.Has(d) {
			return false
		}
	}
	return true
}

// Put records an entry.
func (l *Local) Put(ctx context.Context, e *Entry) error {
	now := l.now()
	err := l.index.Put(ctx, &store.CacheEntry{Key: e.Key, Step: e.Step, Outputs: string(e.Outputs),
		Log: string(e.Log), Size: e.Size, CreatedAt: now, LastUsed: now})
	if err != nil {
		return fmt.Errorf("cache put: %w", err)
	}
	return nil
}

// Evict removes least recently used entries until the entries' total size is
// at most maxBytes, and returns how many it removed. Their blobs go at the
// next content sweep.
func (l *Local) Evict(ctx context.Context, maxBytes int64) (int, error) {
	entries, err := l.index.List(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	var drop []string
	for _, e := range entries {
		if total <= maxBytes {
			break
		}
		drop = append(drop, e.Key)
		total -= e.Size
	}
	if len(drop) == 0 {
		return 0, nil
	}
	return len(drop), l.index.Delete(ctx, drop...)
}
