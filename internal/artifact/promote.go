package artifact

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Promote points dst at the manifest src names, with one manifest PUT of
// the same bytes: nothing is rebuilt, so the digest is unchanged. dst may be
// in another repository of the same registry: its blobs are then mounted
// from src's repository first (the registry links them; no bytes are sent
// unless it refuses to mount), and an index's child manifests put by digest.
// An immutable dst tag that names another digest fails with ErrImmutableTag.
// Promote returns how long it took.
func (c *Client) Promote(ctx context.Context, src name.Digest, dst name.Tag) (time.Duration, error) {
	start := time.Now()
	if src.Context().RegistryStr() != dst.Context().RegistryStr() {
		return 0, fmt.Errorf("promote %s to %s: registries differ", src, dst)
	}
	want, err := v1.NewHash(src.DigestStr())
	if err != nil {
		return 0, fmt.Errorf("promote %s: %w", src, err)
	}
	if IsImmutableTag(dst.TagStr()) {
		cur, err := c.Resolve(ctx, dst)
		switch {
		case err == nil && cur == want:
			return time.Since(start), nil
		case err == nil:
			return 0, fmt.Errorf("promote %s: tag names %s: %w", dst, cur, ErrImmutableTag)
		case !isNotFound(err):
			return 0, fmt.Errorf("promote %s: %w", dst, err)
		}
	}
	opts := c.Options(ctx)
	desc, err := remote.Get(src, opts...)
	if err != nil {
		return 0, fmt.Errorf("promote %s: %w", src, err)
	}
	p, err := remote.NewPusher(opts...)
	if err != nil {
		return 0, fmt.Errorf("promote %s: %w", src, err)
	}
	if src.Context() != dst.Context() {
		if err := c.mountTree(ctx, p, desc, src.Context(), dst.Context(), opts); err != nil {
			return 0, fmt.Errorf("promote %s to %s: %w", src, dst, err)
		}
	}
	if err := p.Put(ctx, dst, desc); err != nil {
		return 0, fmt.Errorf("promote %s to %s: %w", src, dst, err)
	}
	return time.Since(start), nil
}

// mountTree makes everything desc references exist in dst: blobs by mount,
// child manifests by digest.
func (c *Client) mountTree(ctx context.Context, p *remote.Pusher, desc *remote.Descriptor, src, dst name.Repository, opts []remote.Option) error {
	if desc.MediaType.IsIndex() {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return err
		}
		for _, m := range idx.Manifests {
			child, err := remote.Get(src.Digest(m.Digest.String()), opts...)
			if err != nil {
				return err
			}
			if err := c.mountTree(ctx, p, child, src, dst, opts); err != nil {
				return err
			}
			if err := p.Put(ctx, dst.Digest(m.Digest.String()), child); err != nil {
				return err
			}
		}
		return nil
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return err
	}
	for _, b := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		from := src.Digest(b.Digest.String())
		l := &remote.MountableLayer{Layer: &blobRef{desc: b, ref: from, opts: opts}, Reference: from}
		if err := p.Upload(ctx, dst, l); err != nil {
			return fmt.Errorf("mount %s: %w", b.Digest, err)
		}
	}
	return nil
}

// blobRef is a blob known by its descriptor, read from its repository only
// if the registry refuses to mount it.
type blobRef struct {
	desc v1.Descriptor
	ref  name.Digest
	opts []remote.Option
}

func (b *blobRef) Digest() (v1.Hash, error)             { return b.desc.Digest, nil }
func (b *blobRef) DiffID() (v1.Hash, error)             { return b.desc.Digest, nil }
func (b *blobRef) Size() (int64, error)                 { return b.desc.Size, nil }
func (b *blobRef) MediaType() (types.MediaType, error)  { return b.desc.MediaType, nil }
func (b *blobRef) Uncompressed() (io.ReadCloser, error) { return b.Compressed() }

func (b *blobRef) Compressed() (io.ReadCloser, error) {
	l, err := remote.Layer(b.ref, b.opts...)
	if err != nil {
		return nil, err
	}
	return l.Compressed()
}
