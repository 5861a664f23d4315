package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/sources"
)

// bigFile is the size above which a file is hashed and scanned as a
// stream, read twice, rather than held in memory.
const bigFile = 64 << 20

// file is one regular file of the tree on its way through the scan.
type file struct {
	rel, abs string
	size     int64
	key      string
	mu       sync.Mutex
	hits     []Hit
	warn     []string
	pending  atomic.Int32 // fragments in flight, plus one while reading
}

type fragment struct {
	f  *file
	fr sources.Fragment
}

// treeScan is the state of one working-tree scan: a walker feeds
// readers (hash, cache lookup, split into gitleaks fragments) that feed
// detectors; fragments of one file are detected in parallel, so one large
// file does not leave a core idle.
type treeScan struct {
	opts    Options
	rules   *rules
	det     *detect.Detector
	files   chan *file
	frags   chan fragment
	mu      sync.Mutex
	results map[string][]Hit
	scanned int
	cached  int
	warn    []string
}

func (s *treeScan) run(ctx context.Context) error {
	workers := s.opts.workers()
	s.files = make(chan *file, 64)
	s.frags = make(chan fragment, 2*workers)
	var walkErr error
	go func() {
		defer close(s.files)
		walkErr = s.walk(ctx)
	}()
	var readers, detectors sync.WaitGroup
	for range workers {
		readers.Go(func() {
			for f := range s.files {
				s.read(ctx, f)
			}
		})
		detectors.Go(func() {
			for j := range s.frags {
				s.detect(ctx, j)
			}
		})
	}
	readers.Wait()
	close(s.frags)
	detectors.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return walkErr
}

// walk yields the files gitleaks' `dir` mode would read: regular,
// non-empty, not a symlink, not under a path the global allowlist skips
// (which covers .git with the default rules; .git is skipped always).
func (s *treeScan) walk(ctx context.Context) error {
	root := s.opts.Root
	return filepath.WalkDir(root, func(abs string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			if abs == root {
				return fmt.Errorf("secrets: %w", err)
			}
			s.warnf("%s: %v", s.relOf(abs), unwrapPath(err))
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel := s.relOf(abs)
		if d.IsDir() {
			if abs != root && (d.Name() == ".git" || s.rules.pathSkipped(rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || s.rules.pathSkipped(rel) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			s.warnf("%s: %v", rel, unwrapPath(err))
			return nil
		}
		if info.Size() == 0 {
			return nil
		}
		select {
		case s.files <- &file{rel: rel, abs: abs, size: info.Size()}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func (s *treeScan) relOf(abs string) string {
	rel, err := filepath.Rel(s.opts.Root, abs)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	return filepath.ToSlash(rel)
}

// read hashes a file, answers it from the cache when it can, and
// otherwise splits it into fragments exactly as gitleaks does.
func (s *treeScan) read(ctx context.Context, f *file) {
	if ctx.Err() != nil {
		return
	}
	data, sum, err := readAndHash(f.abs, f.size)
	if err != nil {
		s.warnf("%s: %v", f.rel, unwrapPath(err))
		return
	}
	f.key = cacheKey(s.rules.hash, f.rel, sum)
	if s.opts.Cache != nil {
		e, ok, err := s.opts.Cache.Get(f.key)
		if err != nil {
			s.warnf("cache: %v", err)
		}
		if ok {
			s.done(f.rel, e.Hits, true)
			return
		}
	}
	var content io.Reader = bytes.NewReader(data)
	if data == nil {
		fh, err := os.Open(f.abs)
		if err != nil {
			s.warnf("%s: %v", f.rel, unwrapPath(err))
			return
		}
		defer fh.Close()
		content = fh
	}
	f.pending.Store(1)
	src := sources.File{Content: content, Path: f.rel, Config: &s.rules.cfg}
	err = src.Fragments(ctx, func(fr sources.Fragment, err error) error {
		if err != nil {
			f.addWarn(fmt.Sprintf("%s: %v", f.rel, err))
			return nil
		}
		f.pending.Add(1)
		select {
		case s.frags <- fragment{f: f, fr: fr}:
			return nil
		case <-ctx.Done():
			f.pending.Add(-1)
			return ctx.Err()
		}
	})
	if err != nil && ctx.Err() == nil {
		f.addWarn(fmt.Sprintf("%s: %v", f.rel, err))
	}
	s.release(ctx, f)
}

func (s *treeScan) detect(ctx context.Context, j fragment) {
	found := s.det.DetectContext(ctx, detect.Fragment(j.fr))
	if len(found) > 0 {
		j.f.mu.Lock()
		for _, g := range found {
			j.f.hits = append(j.f.hits, hitFrom(g))
		}
		j.f.mu.Unlock()
	}
	s.release(ctx, j.f)
}

// release drops one reference to f; the last one records its result and
// caches it, unless the scan was cancelled and the result may be partial.
func (s *treeScan) release(ctx context.Context, f *file) {
	if f.pending.Add(-1) != 0 {
		return
	}
	slices.SortFunc(f.hits, compareHits)
	if s.opts.Cache != nil && ctx.Err() == nil && len(f.warn) == 0 {
		if err := s.opts.Cache.Put(f.key, Entry{Hits: f.hits}); err != nil {
			s.warnf("cache: %v", err)
		}
	}
	for _, w := range f.warn {
		s.warnf("%s", w)
	}
	s.done(f.rel, f.hits, false)
}

func (s *treeScan) done(rel string, hits []Hit, cached bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(hits) > 0 {
		s.results[rel] = hits
	}
	if cached {
		s.cached++
	} else {
		s.scanned++
	}
}

func (f *file) addWarn(w string) {
	f.mu.Lock()
	f.warn = append(f.warn, w)
	f.mu.Unlock()
}

func (s *treeScan) warnf(format string, args ...any) {
	s.mu.Lock()
	s.warn = append(s.warn, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// readAndHash returns a file's sha256 and, unless it is big, its content.
func readAndHash(abs string, size int64) ([]byte, [sha256.Size]byte, error) {
	if size <= bigFile {
		b, err := os.ReadFile(abs)
		return b, sha256.Sum256(b), err
	}
	var sum [sha256.Size]byte
	fh, err := os.Open(abs)
	if err != nil {
		return nil, sum, err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return nil, sum, err
	}
	copy(sum[:], h.Sum(nil))
	return nil, sum, nil
}

// cacheKey names a file's result: rules and gitleaks version, path (path
// rules and allowlists depend on it) and content.
func cacheKey(rulesHash, rel string, content [sha256.Size]byte) string {
	h := sha256.New()
	h.Write([]byte(rulesHash))
	h.Write([]byte{0})
	h.Write([]byte(rel))
	h.Write([]byte{0})
	h.Write(content[:])
	return hex.EncodeToString(h.Sum(nil))
}

// unwrapPath drops the absolute path an *fs.PathError carries: messages
// name files relative to the scanned root.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

func compareHits(a, b Hit) int {
	if a.Line != b.Line {
		return a.Line - b.Line
	}
	if a.Column != b.Column {
		return a.Column - b.Column
	}
	if a.Rule != b.Rule {
		if a.Rule < b.Rule {
			return -1
		}
		return 1
	}
	if a.SecretSHA256 < b.SecretSHA256 {
		return -1
	}
	if a.SecretSHA256 > b.SecretSHA256 {
		return 1
	}
	return 0
}
