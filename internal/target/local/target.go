package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ci/slipway/internal/target"
)

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("local: target closed")

// Options configure New.
type Options struct {
	// Dir holds the target's state (see the package doc); created 0700.
	Dir string
	// Fetch returns the image repo@digest, e.g. pulled by digest from the
	// registry. Its digest is checked against the version's.
	Fetch func(ctx context.Context, repo, digest string) (v1.Image, error)
	// CgroupParent is passed to the supervisors (see supervisor.Config).
	CgroupParent string
	// Logf receives progress lines; default: discarded.
	Logf func(format string, args ...any)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Target is the local deploy target; see the package doc.
type Target struct {
	opts Options
	dir  string // absolute

	mu      sync.Mutex
	closed  bool
	slots   map[string]*slot
	digests map[string]chan struct{}
}

var (
	_ target.Target  = (*Target)(nil)
	_ target.Sampler = (*Target)(nil)
)

// New loads the slots persisted under opts.Dir; their replicas are adopted
// by the first Apply of each slot.
func New(ctx context.Context, opts Options) (*Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Dir == "" || opts.Fetch == nil {
		return nil, errors.New("local: Options.Dir and Options.Fetch are required")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	for _, d := range []string{dir, filepath.Join(dir, "bin"), filepath.Join(dir, "slots"), filepath.Join(dir, "logs")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
	}
	t := &Target{opts: opts, dir: dir, slots: map[string]*slot{}, digests: map[string]chan struct{}{}}
	files, err := loadSlots(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		t.slots[slotKey(f.Service, f.Env)] = newSlot(t, f)
	}
	return t, nil
}

func (t *Target) logf(format string, args ...any) { t.opts.Logf(format, args...) }

func slotKey(service, env string) string { return service + "\x00" + env }

// namePart is the supervisor's rule for names in IDs and file names.
var namePart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$`)

func validName(s string) bool { return namePart.MatchString(s) }

// lookup returns a known slot, creating it when create is set.
func (t *Target) lookup(service, env string, create bool) (*slot, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	if s, ok := t.slots[slotKey(service, env)]; ok {
		return s, nil
	}
	if !create {
		return nil, fmt.Errorf("%w: %s/%s", target.ErrUnknownSlot, service, env)
	}
	s := newSlot(t, slotFile{Service: service, Env: env})
	t.slots[slotKey(service, env)] = s
	return s, nil
}

// forget drops s after Remove.
func (t *Target) forget(s *slot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.slots[slotKey(s.service, s.env)] == s {
		delete(t.slots, slotKey(s.service, s.env))
	}
}

// Close stops the routers' listeners and the supervisors' goroutines; the
// replicas keep running, to be adopted by the next Target over Dir.
func (t *Target) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	slots := make([]*slot, 0, len(t.slots))
	for _, s := range t.slots {
		slots = append(slots, s)
	}
	t.mu.Unlock()
	var errs []error
	for _, s := range slots {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}
