package secrets

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Cache keeps one file's scan result per key. The key is a hex sha256 over
// the gitleaks version and rules, the file's path and its content, so a
// changed file, a moved file or a rule change all miss. Implementations
// must be safe for concurrent use.
type Cache interface {
	// Get returns the entry under key; ok is false on a miss.
	Get(key string) (e Entry, ok bool, err error)
	// Put stores the entry under key.
	Put(key string, e Entry) error
}

// Entry is one file's result: the redacted hits only, never a secret.
type Entry struct {
	Hits []Hit `json:"hits"`
}

// ErrBadEntry marks a cache entry that does not decode or validate.
var ErrBadEntry = errors.New("secrets: bad cache entry")

// ErrBadKey marks a cache key that is not a hex sha256.
var ErrBadKey = errors.New("secrets: bad cache key")

// FileCache is a Cache in a directory: one JSON file per entry, fanned out
// by the key's first byte. Directories are 0700 and files 0600 since
// paths and rule names are still information about the repository.
type FileCache struct{ dir string }

// NewFileCache opens (creating if needed) a cache under dir.
func NewFileCache(dir string) (*FileCache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: cache dir: %w", err)
	}
	return &FileCache{dir: dir}, nil
}

func (c *FileCache) path(key string) (string, error) {
	if len(key) != 64 {
		return "", fmt.Errorf("%w: length %d", ErrBadKey, len(key))
	}
	if _, err := hex.DecodeString(key); err != nil {
		return "", fmt.Errorf("%w: not hex", ErrBadKey)
	}
	return filepath.Join(c.dir, key[:2], key+".json"), nil
}

// Get reads an entry. A corrupt entry is reported as ErrBadEntry; Scan
// treats it as a miss and overwrites it.
func (c *FileCache) Get(key string) (Entry, bool, error) {
	p, err := c.path(key)
	if err != nil {
		return Entry{}, false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("secrets: cache read: %w", err)
	}
	e, err := DecodeEntry(b)
	if err != nil {
		return Entry{}, false, fmt.Errorf("%s: %w", p, err)
	}
	return e, true, nil
}

// Put writes an entry atomically (temporary file, then rename).
func (c *FileCache) Put(key string, e Entry) error {
	p, err := c.path(key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("secrets: cache encode: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("secrets: cache dir: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*") // CreateTemp makes 0600 files
	if err != nil {
		return fmt.Errorf("secrets: cache write: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("secrets: cache write: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("secrets: cache write: %w", err)
	}
	return nil
}

// DecodeEntry parses and validates a cache entry's JSON.
func DecodeEntry(b []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrBadEntry, err)
	}
	if dec.More() {
		return Entry{}, fmt.Errorf("%w: trailing data", ErrBadEntry)
	}
	for i, h := range e.Hits {
		if err := h.validate(); err != nil {
			return Entry{}, fmt.Errorf("%w: hit %d: %w", ErrBadEntry, i, err)
		}
	}
	return e, nil
}

func (h Hit) validate() error {
	switch {
	case h.Rule == "":
		return errors.New("no rule")
	case h.Line < 0 || h.Column < 0 || h.EndLine < 0:
		return errors.New("negative position")
	case len(h.SecretSHA256) != 64:
		return errors.New("secret hash is not a sha256")
	}
	if _, err := hex.DecodeString(h.SecretSHA256); err != nil {
		return errors.New("secret hash is not hex")
	}
	return nil
}
