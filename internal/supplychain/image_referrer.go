package supplychain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations cosign v3 puts on bundle referrers.
const (
	bundleContentAnnotation       = "dev.sigstore.bundle.content"
	bundlePredicateTypeAnnotation = "dev.sigstore.bundle.predicateType"
	createdAnnotation             = "org.opencontainers.image.created"
)

// rawManifest lets remote.Put push manifest bytes we built ourselves.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)      { return m, nil }
func (rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// writeReferrer pushes bundle as the one layer of an OCI 1.1 manifest whose
// subject is ref, the way cosign v3 stores bundles. remote.Put keeps the
// referrers tag-schema index (sha256-<hex>) current on registries without
// the referrers API.
func writeReferrer(ref name.Digest, subject *v1.Descriptor, bundle []byte, predicateType string, opts []remote.Option) error {
	repo := ref.Context()
	config := static.NewLayer([]byte("{}"), types.OCIEmptyJSON)
	layer := static.NewLayer(bundle, BundleMediaType)
	configDesc, err := pushBlob(repo, config, opts)
	if err != nil {
		return err
	}
	layerDesc, err := pushBlob(repo, layer, opts)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  BundleMediaType,
		Config:        *configDesc,
		Layers:        []v1.Descriptor{*layerDesc},
		Subject:       subject,
		Annotations: map[string]string{
			createdAnnotation:             time.Now().UTC().Format(time.RFC3339),
			bundleContentAnnotation:       "dsse-envelope",
			bundlePredicateTypeAnnotation: predicateType,
		},
	})
	if err != nil {
		return fmt.Errorf("encode referrer manifest: %w", err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := remote.Put(repo.Digest(h.String()), rawManifest(raw), opts...); err != nil {
		return fmt.Errorf("push referrer of %s: %w", ref, err)
	}
	return nil
}

func pushBlob(repo name.Repository, l v1.Layer, opts []remote.Option) (*v1.Descriptor, error) {
	if err := remote.WriteLayer(repo, l, opts...); err != nil {
		return nil, fmt.Errorf("push blob to %s: %w", repo, err)
	}
	d, err := l.Digest()
	if err != nil {
		return nil, err
	}
	sz, err := l.Size()
	if err != nil {
		return nil, err
	}
	mt, err := l.MediaType()
	if err != nil {
		return nil, err
	}
	return &v1.Descriptor{MediaType: mt, Digest: d, Size: sz}, nil
}

// bundleReferrers lists ref's referrers that hold Sigstore bundles.
func bundleReferrers(ref name.Digest, opts []remote.Option) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(ref, opts...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w", ref, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w", ref, err)
	}
	var out []v1.Descriptor
	for _, d := range m.Manifests {
		if strings.HasPrefix(d.ArtifactType, "application/vnd.dev.sigstore.bundle") {
			out = append(out, d)
		}
	}
	return out, nil
}

// readReferrerBundle fetches the bundle held by a referrer manifest.
func readReferrerBundle(repo name.Repository, d v1.Descriptor, opts []remote.Option) ([]byte, error) {
	img, err := remote.Image(repo.Digest(d.Digest.String()), opts...)
	if err != nil {
		return nil, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	if len(m.Layers) != 1 || !strings.HasPrefix(string(m.Layers[0].MediaType), "application/vnd.dev.sigstore.bundle") {
		return nil, fmt.Errorf("referrer %s: want exactly one bundle layer", d.Digest)
	}
	return readLayer(img, m.Layers[0])
}
