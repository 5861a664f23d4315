package image

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/supplychain/sbom"
)

// annotationCreated orders several SBOMs attached to one image.
const annotationCreated = "org.opencontainers.image.created"

// findSBOM returns the CycloneDX SBOM attached to d as an OCI referrer, the
// newest when there are several, and the referrer's digest; nil when none.
func findSBOM(ctx context.Context, d name.Digest, opts []remote.Option) ([]byte, string, error) {
	opts = append(opts, remote.WithContext(ctx))
	idx, err := remote.Referrers(d, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("referrers of %s: %w", d, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, "", fmt.Errorf("referrers of %s: %w", d, err)
	}
	var cands []v1.Descriptor
	for _, m := range im.Manifests {
		if m.ArtifactType == sbom.MediaTypeCycloneDX {
			cands = append(cands, m)
		}
	}
	if len(cands) == 0 {
		return nil, "", nil
	}
	sort.Slice(cands, func(i, j int) bool {
		ci, cj := cands[i].Annotations[annotationCreated], cands[j].Annotations[annotationCreated]
		if ci != cj {
			return ci > cj // RFC 3339 in UTC sorts as text
		}
		return cands[i].Digest.String() < cands[j].Digest.String()
	})
	ref := d.Context().Digest(cands[0].Digest.String())
	data, err := sbomBlob(ref, opts)
	if err != nil {
		return nil, "", fmt.Errorf("SBOM %s: %w", ref, err)
	}
	return data, cands[0].Digest.String(), nil
}

// sbomBlob reads the CycloneDX layer of an SBOM referrer manifest.
func sbomBlob(ref name.Digest, opts []remote.Option) ([]byte, error) {
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return nil, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		if l.MediaType != sbom.MediaTypeCycloneDX {
			continue
		}
		if l.Size > maxSBOMSize {
			return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedSBOM, l.Size, maxSBOMSize)
		}
		blob, err := remote.Layer(ref.Context().Digest(l.Digest.String()), opts...)
		if err != nil {
			return nil, err
		}
		rc, err := blob.Compressed() // the blob as stored: the document itself
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, maxSBOMSize+1))
		if err != nil {
			return nil, err
		}
		if len(data) > maxSBOMSize {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrMalformedSBOM, maxSBOMSize)
		}
		return data, nil
	}
	return nil, fmt.Errorf("%w: no %s layer in the referrer", ErrMalformedSBOM, sbom.MediaTypeCycloneDX)
}
