package release

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/registry"
	"github.com/slipway-ci/slipway/internal/store"
)

// ImageRefs names what an image scan reads, with the options that reach
// it: ref, when given — a repository of the artifact registry ("hello:v1.2.0",
// "hello@sha256:...") or a full reference with its host — else every
// artifact the run published.
func (s *Service) ImageRefs(ctx context.Context, ref string, runID int64) ([]name.Reference, []remote.Option, error) {
	_, client, err := s.Registry(ctx)
	if err != nil {
		return nil, nil, err
	}
	opts := client.Options(ctx)
	if ref != "" {
		r, err := s.parseRef(ctx, ref)
		return []name.Reference{r}, opts, err
	}
	if runID == 0 {
		return nil, nil, fmt.Errorf("no image named and no run to take its published artifacts from")
	}
	arts, err := s.o.Artifacts.List(ctx, store.ArtifactFilter{RunID: runID})
	if err != nil {
		return nil, nil, err
	}
	if len(arts) == 0 {
		return nil, nil, fmt.Errorf("run %d has published no artifact yet: name one with `with: {ref: ...}`, or make this step need the publish step", runID)
	}
	var refs []name.Reference
	for _, a := range arts {
		d, err := s.digestRef(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		refs = append(refs, d)
	}
	return refs, opts, nil
}

// parseRef reads ref in the artifact registry unless its first path
// component is a registry host (has a dot, a port, or is localhost), as
// Docker decides.
func (s *Service) parseRef(ctx context.Context, ref string) (name.Reference, error) {
	first, _, slash := strings.Cut(ref, "/")
	if slash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		var o []name.Option
		if s.o.Registry.Insecure || registry.IsLoopback(first) {
			o = append(o, name.Insecure)
		}
		r, err := name.ParseReference(ref, o...)
		if err != nil {
			return nil, fmt.Errorf("image %q: %w", ref, err)
		}
		return r, nil
	}
	repo, tail := splitRef(ref)
	r, err := s.Repository(ctx, repo)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(tail, "@") {
		return r.Digest(tail[1:]), nil
	}
	return r.Tag(strings.TrimPrefix(tail, ":")), nil
}

// splitRef splits "repo:tag" or "repo@digest" after the repository
// ("hello", ":v1", "@sha256:..."); the tag defaults to latest.
func splitRef(ref string) (repo, tail string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i], ref[i:]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i:]
	}
	return ref, ":latest"
}

// Image reads repo@digest from the registry; the client checks the
// manifest against the digest, and layers are checked as they are read.
func (s *Service) Image(ctx context.Context, repo, digest string) (v1.Image, error) {
	r, err := s.Repository(ctx, repo)
	if err != nil {
		return nil, err
	}
	_, client, err := s.Registry(ctx)
	if err != nil {
		return nil, err
	}
	return client.Image(ctx, r.Digest(digest))
}
