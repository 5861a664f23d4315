package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// tagRE is the OCI distribution-spec tag grammar.
var tagRE = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

func protectedPath(stateDir string) string {
	return filepath.Join(registryDir(stateDir), "protected-tags.json")
}

// ProtectTag marks an environment tag name (e.g. "staging") so that only the
// Admin credential may move or delete it, in every repository.
func ProtectTag(stateDir, tag string) error {
	if !tagRE.MatchString(tag) {
		return fmt.Errorf("protect tag %q: not a valid OCI tag", tag)
	}
	dir := registryDir(stateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("registry dir: %w", err)
	}
	// Serialise read-modify-write across processes.
	lf, err := os.OpenFile(filepath.Join(dir, "protected-tags.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("protect tag: %w", err)
	}
	defer lf.Close()
	if err := unix.Flock(int(lf.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("protect tag: flock: %w", err)
	}
	tags, err := readProtected(protectedPath(stateDir))
	if err != nil {
		return err
	}
	if slices.Contains(tags, tag) {
		return nil
	}
	tags = append(tags, tag)
	slices.Sort(tags)
	return writeFileAtomic(protectedPath(stateDir), tags)
}

func readProtected(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read protected tags: %w", err)
	}
	tags, err := parseProtected(b)
	if err != nil {
		return nil, fmt.Errorf("read protected tags %s: %w", path, err)
	}
	return tags, nil
}

// parseProtected parses the protected-tags file: a JSON array of tag names.
func parseProtected(b []byte) ([]string, error) {
	var tags []string
	if err := json.Unmarshal(b, &tags); err != nil {
		return nil, err
	}
	return tags, nil
}

func writeFileAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// protectedTags caches the protected-tags file, re-reading it when its
// modification time or size changes.
type protectedTags struct {
	path string

	mu    sync.Mutex
	mtime time.Time
	size  int64
	tags  map[string]bool
}

// has reports whether tag is protected. A file that cannot be read fails
// closed: every tag counts as protected until it can be read again.
func (p *protectedTags) has(tag string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	fi, err := os.Stat(p.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		p.tags, p.mtime, p.size = nil, time.Time{}, 0
		return false
	case err != nil:
		return true
	}
	if p.tags == nil || !fi.ModTime().Equal(p.mtime) || fi.Size() != p.size {
		tags, err := readProtected(p.path)
		if err != nil {
			p.tags = nil
			return true
		}
		p.tags = make(map[string]bool, len(tags))
		for _, t := range tags {
			p.tags[t] = true
		}
		p.mtime, p.size = fi.ModTime(), fi.Size()
	}
	return p.tags[tag]
}
