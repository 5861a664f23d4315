package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"golang.org/x/sync/errgroup"
)

// InputFile is one file that a step's cache key depends on.
type InputFile struct {
	Path   string // slash-separated, relative to the step's workdir
	Digest string // hex sha256 of the content (or of the link target)
	Mode   string // "f", "x" (executable) or "l" (symlink)
}

// HashInputs finds the files under root that match patterns (doublestar
// globs; a leading "!" excludes) and hashes them in parallel. The .git
// directory is never an input.
func HashInputs(ctx context.Context, root string, patterns []string) ([]InputFile, error) {
	var include, exclude []string
	for _, p := range patterns {
		if ex, ok := strings.CutPrefix(p, "!"); ok {
			exclude = append(exclude, ex)
		} else {
			include = append(include, p)
		}
	}
	if len(include) == 0 {
		return nil, nil
	}
	paths, err := matchFiles(root, include, exclude)
	if err != nil {
		return nil, err
	}
	out := make([]InputFile, len(paths))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, rel := range paths {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			f, err := hashFile(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil {
				return fmt.Errorf("cache input %s: %w", rel, err)
			}
			f.Path = rel
			out[i] = f
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func matchFiles(root string, include, exclude []string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if matchAny(include, rel) && !matchAny(exclude, rel) {
			paths = append(paths, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache inputs: %w", err)
	}
	sort.Strings(paths)
	return paths, nil
}

func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		if ok, _ := doublestar.Match(p, rel); ok {
			return true
		}
	}
	return false
}

func hashFile(path string) (InputFile, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return InputFile{}, err
	}
	h := sha256.New()
	mode := "f"
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return InputFile{}, err
		}
		h.Write([]byte(target))
		mode = "l"
	default:
		if info.Mode()&0o111 != 0 {
			mode = "x"
		}
		f, err := os.Open(path)
		if err != nil {
			return InputFile{}, err
		}
		defer f.Close()
		if _, err := io.Copy(h, f); err != nil {
			return InputFile{}, err
		}
	}
	return InputFile{Digest: hex.EncodeToString(h.Sum(nil)), Mode: mode}, nil
}
