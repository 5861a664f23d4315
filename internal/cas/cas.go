// Package cas is the content-addressed blob store in the state dir: step
// outputs, cached logs and the trees that list them are stored once under
// their sha256 digest and verified whenever they are read back.
package cas

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Digest names content: "sha256:<64 hex>".
type Digest string

// ErrCorrupt is wrapped when stored content no longer matches its digest.
var ErrCorrupt = errors.New("content does not match its digest")

func (d Digest) hex() string { return strings.TrimPrefix(string(d), "sha256:") }

// Short is the first 12 hex digits, for display.
func (d Digest) Short() string {
	h := d.hex()
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Store is a directory of blobs.
type Store struct{ dir string }

// Open opens (creating) the store in dir.
func Open(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "tmp"), filepath.Join(dir, "sha256")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("content store: %w", err)
		}
	}
	return &Store{dir: dir}, nil
}

// Path is where a blob lives (it may not exist).
func (s *Store) Path(d Digest) string {
	h := d.hex()
	if len(h) < 2 {
		return filepath.Join(s.dir, "sha256", "invalid")
	}
	return filepath.Join(s.dir, "sha256", h[:2], h)
}

// Has reports whether the blob is present.
func (s *Store) Has(d Digest) bool {
	_, err := os.Stat(s.Path(d))
	return err == nil
}

// Put stores r's content and returns its digest and size. Storing the same
// content twice keeps one copy.
func (s *Store) Put(r io.Reader) (Digest, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-")
	if err != nil {
		return "", 0, fmt.Errorf("content store: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("content store: %w", err)
	}
	d := digestOf(h)
	dst := s.Path(d)
	if _, err := os.Stat(dst); err == nil {
		return d, n, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", 0, fmt.Errorf("content store: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, fmt.Errorf("content store: %w", err)
	}
	return d, n, nil
}

// PutFile stores a file's content.
func (s *Store) PutFile(path string) (Digest, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return s.Put(f)
}

// PutBytes stores b.
func (s *Store) PutBytes(b []byte) (Digest, error) {
	d, _, err := s.Put(strings.NewReader(string(b)))
	return d, err
}

// Open returns a reader over a blob that fails with ErrCorrupt at the end if
// the content does not match the digest.
func (s *Store) Open(d Digest) (io.ReadCloser, error) {
	f, err := os.Open(s.Path(d))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d.Short(), err)
	}
	return &verifier{f: f, h: sha256.New(), want: d}, nil
}

// ReadAll reads a whole (small) blob, verified.
func (s *Store) ReadAll(d Digest) ([]byte, error) {
	rc, err := s.Open(d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// Delete removes a blob; a missing blob is not an error.
func (s *Store) Delete(d Digest) error {
	if err := os.Remove(s.Path(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("content store: %w", err)
	}
	return nil
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Digest  Digest
	Size    int64
	ModTime time.Time
}

// Walk calls fn for every stored blob.
func (s *Store) Walk(fn func(BlobInfo) error) error {
	root := filepath.Join(s.dir, "sha256")
	return filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		return fn(BlobInfo{Digest: Digest("sha256:" + e.Name()), Size: info.Size(), ModTime: info.ModTime()})
	})
}

func digestOf(h hash.Hash) Digest { return Digest("sha256:" + hex.EncodeToString(h.Sum(nil))) }

type verifier struct {
	f    *os.File
	h    hash.Hash
	want Digest
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) && digestOf(v.h) != v.want {
		return n, fmt.Errorf("blob %s: %w", v.want.Short(), ErrCorrupt)
	}
	return n, err
}

func (v *verifier) Close() error { return v.f.Close() }

func newHash() hash.Hash { return sha256.New() }
