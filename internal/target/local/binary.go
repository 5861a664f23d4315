package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ci/slipway/internal/artifact"
	"github.com/slipway-ci/slipway/internal/target"
)

// ErrDigestMismatch is wrapped when the fetched image is not the digest asked for.
var ErrDigestMismatch = errors.New("local: fetched image digest differs from the version's digest")

// program is how a version's replicas are executed, from its image config.
type program struct {
	Binary string   `json:"binary"`
	Args   []string `json:"args,omitempty"` // entrypoint[1:] then cmd
	Env    []string `json:"env,omitempty"`  // the image's own environment (not secrets)
}

// program returns v's cached program, fetching and extracting it first when
// missing. Calls for one digest are serialised, so it is extracted once.
func (t *Target) program(ctx context.Context, v target.Version) (program, error) {
	h, err := v1.NewHash(v.Digest)
	if err != nil || h.Algorithm != "sha256" {
		return program{}, fmt.Errorf("local: version %s: invalid digest %q", v.Name, v.Digest)
	}
	lock := t.digestLock(h.Hex)
	select { // another Apply may be extracting this digest
	case lock <- struct{}{}:
	case <-ctx.Done():
		return program{}, ctx.Err()
	}
	defer func() { <-lock }()
	meta := filepath.Join(t.dir, "bin", h.Hex+".json")
	var p program
	if b, err := os.ReadFile(meta); err == nil && json.Unmarshal(b, &p) == nil {
		if _, err := os.Stat(p.Binary); err == nil {
			return p, nil
		}
	}
	img, err := t.opts.Fetch(ctx, v.Repo, v.Digest)
	if err != nil {
		return program{}, fmt.Errorf("local: fetch %s@%s: %w", v.Repo, v.Digest, err)
	}
	got, err := img.Digest()
	if err != nil {
		return program{}, fmt.Errorf("local: digest of %s@%s: %w", v.Repo, v.Digest, err)
	}
	if got != h {
		return program{}, fmt.Errorf("%w: %s@%s is %s", ErrDigestMismatch, v.Repo, v.Digest, got)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return program{}, fmt.Errorf("local: config of %s@%s: %w", v.Repo, v.Digest, err)
	}
	bin, err := artifact.ExtractEntrypoint(img, filepath.Join(t.dir, "bin", h.Hex))
	if err != nil {
		return program{}, fmt.Errorf("local: %s@%s: %w", v.Repo, v.Digest, err)
	}
	p = program{Binary: bin, Env: cfg.Config.Env}
	p.Args = append(append(p.Args, cfg.Config.Entrypoint[1:]...), cfg.Config.Cmd...)
	b, _ := json.Marshal(p)
	if err := writeAtomic(meta, b); err != nil {
		return program{}, fmt.Errorf("local: %w", err)
	}
	t.logf("local: extracted %s@%s to %s", v.Repo, v.Digest, bin)
	return p, nil
}

// digestLock returns the lock of one digest: a channel with room for one,
// so that waiting for it honours ctx.
func (t *Target) digestLock(hex string) chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.digests[hex]
	if !ok {
		l = make(chan struct{}, 1)
		t.digests[hex] = l
	}
	return l
}

// writeAtomic replaces path with b (0600): written aside, synced, renamed.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close() //nolint:errcheck
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close() //nolint:errcheck
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
