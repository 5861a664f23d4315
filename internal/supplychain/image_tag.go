package supplychain

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tagEntry is one layer to add to a cosign .sig or .att tag.
type tagEntry struct {
	suffix      string // ".sig" or ".att"
	mediaType   string
	content     []byte
	statement   []byte // .att only: the statement inside content
	annotations map[string]string
}

// storedLayer is one layer read back from a .sig or .att tag.
type storedLayer struct {
	mediaType   types.MediaType
	annotations map[string]string
	content     []byte
}

// cosignTag is cosign's tag for ref's signatures or attestations:
// sha256-<hex><suffix>.
func cosignTag(ref name.Digest, suffix string) (name.Tag, error) {
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return name.Tag{}, fmt.Errorf("reference %s: %w", ref, err)
	}
	return ref.Context().Tag(h.Algorithm + "-" + h.Hex + suffix), nil
}

// appendTagEntry adds e to the manifest at ref's cosign tag, keeping the
// layers already there (other signers). It does nothing if s already signed
// the same content. Concurrent writers to one tag can lose an entry: the
// registry offers no compare-and-swap on tags.
func appendTagEntry(ctx context.Context, ref name.Digest, e tagEntry, s *Signer, opts []remote.Option) error {
	tag, err := cosignTag(ref, e.suffix)
	if err != nil {
		return err
	}
	base, existing, err := readTag(tag, opts)
	if err != nil {
		return err
	}
	if base == nil {
		base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	for _, l := range existing {
		if sameEntry(l, e, s.Public()) {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       static.NewLayer(e.content, types.MediaType(e.mediaType)),
		Annotations: e.annotations,
	})
	if err != nil {
		return fmt.Errorf("append to %s: %w", tag, err)
	}
	if err := remote.Write(tag, img, opts...); err != nil {
		return fmt.Errorf("push %s: %w", tag, err)
	}
	return nil
}

// sameEntry reports whether stored already holds e's content signed by pub.
func sameEntry(stored storedLayer, e tagEntry, pub *ecdsa.PublicKey) bool {
	keys := []*ecdsa.PublicKey{pub}
	switch e.suffix {
	case ".sig":
		sig, err := base64.StdEncoding.DecodeString(stored.annotations[cosignSigAnnotation])
		return err == nil && bytes.Equal(stored.content, e.content) && matchKey(stored.content, sig, keys) != ""
	case ".att":
		_, payload, _, err := openEnvelope(stored.content, keys)
		return err == nil && bytes.Equal(payload, e.statement)
	}
	return false
}

// readTag fetches the image at tag and its layers; (nil, nil, nil) when the
// tag does not exist.
func readTag(tag name.Tag, opts []remote.Option) (v1.Image, []storedLayer, error) {
	img, err := remote.Image(tag, opts...)
	if isNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", tag, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", tag, err)
	}
	out := make([]storedLayer, 0, len(m.Layers))
	for _, d := range m.Layers {
		content, err := readLayer(img, d)
		if err != nil {
			return nil, nil, fmt.Errorf("fetch %s: %w", tag, err)
		}
		out = append(out, storedLayer{mediaType: d.MediaType, annotations: d.Annotations, content: content})
	}
	return img, out, nil
}

// readLayer reads a small layer (signature payloads, envelopes, bundles).
func readLayer(img v1.Image, d v1.Descriptor) ([]byte, error) {
	if d.Size > maxBundleSize {
		return nil, fmt.Errorf("layer %s is %d bytes, over the %d limit", d.Digest, d.Size, maxBundleSize)
	}
	l, err := img.LayerByDigest(d.Digest)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed() // cosign stores payloads as-is; ggcr checks the digest
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxBundleSize+1))
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); d.Digest.Algorithm != "sha256" || fmt.Sprintf("%x", sum) != d.Digest.Hex {
		return nil, fmt.Errorf("layer %s: content digest mismatch", d.Digest)
	}
	return b, nil
}

func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// isRegistryFailure tells a registry that failed to answer from one that
// answered "not found".
func isRegistryFailure(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode != http.StatusNotFound
}
