package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// emptyConfig is the OCI empty descriptor's content.
var emptyConfig = []byte("{}")

const mediaTypeEmpty types.MediaType = "application/vnd.oci.empty.v1+json"

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// attach pushes data as an OCI 1.1 artifact whose subject is d (a
// referrer). On registries without the referrers API, go-containerregistry
// maintains the `sha256-<hex>` fallback index tag that cosign and oras read.
func attach(ctx context.Context, d name.Digest, artifactType string, data []byte, opts ...remote.Option) (v1.Hash, error) {
	opts = append(opts, remote.WithContext(ctx))
	subject, err := remote.Head(d, opts...)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("subject %s: %w", d, err)
	}
	layer := static.NewLayer(data, types.MediaType(artifactType))
	cfg := static.NewLayer(emptyConfig, mediaTypeEmpty)
	for _, l := range []v1.Layer{cfg, layer} {
		if err := remote.WriteLayer(d.Context(), l, opts...); err != nil {
			return v1.Hash{}, err
		}
	}
	ld, _ := layer.Digest()
	cd, _ := cfg.Digest()
	m := v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: artifactType,
		Config:  v1.Descriptor{MediaType: mediaTypeEmpty, Digest: cd, Size: int64(len(emptyConfig))},
		Layers:  []v1.Descriptor{{MediaType: types.MediaType(artifactType), Digest: ld, Size: int64(len(data))}},
		Subject: &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Hash{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Put(d.Context().Digest(h.String()), rawManifest{raw, types.OCIManifestSchema1}, opts...); err != nil {
		return v1.Hash{}, err
	}
	return h, nil
}
