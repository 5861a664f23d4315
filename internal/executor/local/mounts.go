package local

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway-ci/slipway/internal/executor"
)

type mountKind int

const (
	writable mountKind = iota
	hideDir
	hideFile
)

// mount is one path the sandbox treats specially, symlinks resolved.
type mount struct {
	path string
	kind mountKind
}

func (m mount) args() []string {
	switch m.kind {
	case hideDir:
		return []string{"--tmpfs", m.path}
	case hideFile:
		// dev-bind: /dev/null on an ordinary (nodev) bind cannot be opened.
		return []string{"--dev-bind", "/dev/null", m.path}
	}
	return []string{"--bind", m.path, m.path}
}

// planMounts orders the sandbox's mounts parents first, so the deepest
// entry decides: a Hidden path inside a Writable one stays hidden, a
// Writable one inside a Hidden one is reachable, and a path in both lists
// is hidden.
func planMounts(sb executor.Sandbox) ([]mount, error) {
	var ms []mount
	for _, p := range sb.Writable {
		real, err := resolve(p)
		if err != nil {
			return nil, fmt.Errorf("writable path: %w", err)
		}
		ms = append(ms, mount{real, writable})
	}
	for _, p := range sb.Hidden {
		real, err := resolve(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // nothing to hide
		}
		if err != nil {
			return nil, fmt.Errorf("hidden path: %w", err)
		}
		if real == "/" {
			return nil, fmt.Errorf("hidden path %s: cannot hide the root directory", p)
		}
		fi, err := os.Stat(real)
		if err != nil {
			return nil, fmt.Errorf("hidden path: %w", err)
		}
		kind := hideFile
		if fi.IsDir() {
			kind = hideDir
		}
		ms = append(ms, mount{real, kind})
	}
	slices.SortStableFunc(ms, func(a, b mount) int {
		if c := cmp.Compare(depth(a.path), depth(b.path)); c != 0 {
			return c
		}
		if a.path == b.path {
			return cmp.Compare(rank(a.kind), rank(b.kind))
		}
		return 0
	})
	return ms, nil
}

// resolve checks p is absolute and follows its symlinks: bwrap refuses to
// mount over a symlink, and what a symlink leads to is what must be
// covered or opened.
func resolve(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%q is not absolute", p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	return real, nil
}

// rank puts the bind of a path before the mount hiding it.
func rank(k mountKind) int {
	if k == writable {
		return 0
	}
	return 1
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}
