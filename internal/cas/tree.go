package cas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Tree lists the files of a step's outputs. It is stored as a blob in
// canonical JSON, so equal outputs have equal tree digests.
type Tree struct {
	Files []File `json:"files"`
}

// File is one entry of a Tree. Modes keep only the executable bit, so trees
// do not depend on the umask.
type File struct {
	Path   string `json:"path"` // slash-separated, relative to the root
	Mode   uint32 `json:"mode"` // 0o644, 0o755, or 0o777 for symlinks
	Size   int64  `json:"size,omitempty"`
	Digest Digest `json:"digest,omitempty"`
	Link   string `json:"link,omitempty"` // symlink target
}

// Size is the total size of the tree's files.
func (t *Tree) Size() int64 {
	var n int64
	for _, f := range t.Files {
		n += f.Size
	}
	return n
}

// Check inspects a file before it is stored; an error aborts the snapshot.
type Check func(rel string, abs string) error

// Snapshot stores the files that patterns name under root and returns the
// tree's digest. A pattern is a path (a file, or a directory taken whole) or
// a doublestar glob, relative to root; a pattern that matches nothing is an
// error. check, when not nil, sees every file first.
func (s *Store) Snapshot(root string, patterns []string, check Check) (Digest, *Tree, error) {
	files := map[string]File{}
	for _, p := range patterns {
		matches, err := expand(root, p)
		if err != nil {
			return "", nil, err
		}
		for _, m := range matches {
			if err := s.addPath(root, m, files, check); err != nil {
				return "", nil, err
			}
		}
	}
	t := &Tree{}
	for _, f := range files {
		t.Files = append(t.Files, f)
	}
	sort.Slice(t.Files, func(i, j int) bool { return t.Files[i].Path < t.Files[j].Path })
	raw, err := json.Marshal(t)
	if err != nil {
		return "", nil, fmt.Errorf("outputs: %w", err)
	}
	d, err := s.PutBytes(raw)
	if err != nil {
		return "", nil, err
	}
	return d, t, nil
}

func expand(root, pattern string) ([]string, error) {
	clean := path.Clean(pattern)
	if !hasMeta(clean) {
		if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(clean))); err != nil {
			return nil, fmt.Errorf("output %q: %w", pattern, err)
		}
		return []string{clean}, nil
	}
	matches, err := doublestar.Glob(os.DirFS(root), clean, doublestar.WithNoFollow())
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", pattern, err)
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("output %q matches no file", pattern)
	}
	return matches, nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[{") }

// addPath adds a file, a symlink, or a directory's content.
func (s *Store) addPath(root, rel string, files map[string]File, check Check) error {
	abs := filepath.Join(root, filepath.FromSlash(rel))
	return filepath.WalkDir(abs, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("output %q: %w", rel, err)
		}
		if e.IsDir() {
			return nil
		}
		r, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		r = filepath.ToSlash(r)
		if _, done := files[r]; done {
			return nil
		}
		f, err := s.fileEntry(p, r, e, check)
		if err != nil {
			return err
		}
		files[r] = f
		return nil
	})
}

func (s *Store) fileEntry(abs, rel string, e fs.DirEntry, check Check) (File, error) {
	switch {
	case e.Type()&fs.ModeSymlink != 0:
		target, err := os.Readlink(abs)
		if err != nil {
			return File{}, fmt.Errorf("output %q: %w", rel, err)
		}
		return File{Path: rel, Mode: 0o777, Link: target}, nil
	case !e.Type().IsRegular():
		return File{}, fmt.Errorf("output %q: not a regular file, directory or symlink", rel)
	}
	if check != nil {
		if err := check(rel, abs); err != nil {
			return File{}, err
		}
	}
	info, err := e.Info()
	if err != nil {
		return File{}, fmt.Errorf("output %q: %w", rel, err)
	}
	d, n, err := s.PutFile(abs)
	if err != nil {
		return File{}, fmt.Errorf("output %q: %w", rel, err)
	}
	mode := uint32(0o644)
	if info.Mode()&0o111 != 0 {
		mode = 0o755
	}
	return File{Path: rel, Mode: mode, Size: n, Digest: d}, nil
}

// ReadTree loads a stored tree.
func (s *Store) ReadTree(d Digest) (*Tree, error) {
	raw, err := s.ReadAll(d)
	if err != nil {
		return nil, err
	}
	var t Tree
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&t); err != nil {
		return nil, fmt.Errorf("tree %s: %w", d.Short(), err)
	}
	return &t, nil
}

// Restore writes a tree's files under root. Files that already hold the
// right content are left alone; others are replaced atomically.
func (s *Store) Restore(d Digest, root string) error {
	t, err := s.ReadTree(d)
	if err != nil {
		return err
	}
	for _, f := range t.Files {
		if err := s.restoreFile(root, f); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) restoreFile(root string, f File) error {
	if escapes(f.Path) {
		return fmt.Errorf("tree entry %q escapes the root", f.Path)
	}
	dst := filepath.Join(root, filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if f.Link != "" {
		if cur, err := os.Readlink(dst); err == nil && cur == f.Link {
			return nil
		}
		os.Remove(dst) //nolint:errcheck // replaced next
		return os.Symlink(f.Link, dst)
	}
	if same, _ := sameContent(dst, f); same {
		return nil
	}
	src, err := s.Open(f.Digest)
	if err != nil {
		return fmt.Errorf("restore %s: %w", f.Path, err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".slipway-restore-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), fs.FileMode(f.Mode))
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", f.Path, err)
	}
	return nil
}

func sameContent(path string, f File) (bool, error) {
	info, err := os.Lstat(path)
	if err != nil || !info.Mode().IsRegular() || info.Size() != f.Size {
		return false, err
	}
	if (info.Mode()&0o111 != 0) != (f.Mode == 0o755) {
		return false, nil
	}
	d, err := FileDigest(path)
	return d == f.Digest, err
}

// FileDigest hashes a file.
func FileDigest(path string) (Digest, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := newHash()
	if _, err := io.Copy(h, fh); err != nil {
		return "", err
	}
	return digestOf(h), nil
}

func escapes(p string) bool {
	c := path.Clean(p)
	return strings.HasPrefix(c, "/") || c == ".." || strings.HasPrefix(c, "../")
}

// Blobs lists the digests a tree references (for garbage collection).
func (t *Tree) Blobs() []Digest {
	var out []Digest
	for _, f := range t.Files {
		if f.Digest != "" {
			out = append(out, f.Digest)
		}
	}
	return out
}
