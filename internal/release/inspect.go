package release

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/artifact"
	"github.com/slipway-ci/slipway/internal/store"
)

// Inspection is what Slipway knows about one artifact.
type Inspection struct {
	Artifact     *store.Artifact `json:"artifact"`
	Environments []string        `json:"environments"` // where it is now
	Referrers    []Referrer      `json:"referrers"`
}

// Referrer is an SBOM, signature or attestation attached to an artifact.
type Referrer struct {
	Digest       string `json:"digest"`
	ArtifactType string `json:"artifact_type"`
}

// Inspect reads an artifact's record, the environments it is in and its
// referrers.
func (s *Service) Inspect(ctx context.Context, ref Ref) (*Inspection, error) {
	digest := ref.Digest
	if digest == "" {
		d, err := s.resolveTag(ctx, ref)
		if err != nil {
			return nil, err
		}
		digest = d
	}
	a, err := s.o.Artifacts.Get(ctx, ref.Repo, digest)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %w", ref.Repo, digest, err)
	}
	in := &Inspection{Artifact: a, Environments: []string{}, Referrers: []Referrer{}}
	envs, err := s.o.Artifacts.WasInEnv(ctx, a.Repo, a.Digest, time.Now())
	if err != nil {
		return nil, err
	}
	in.Environments = append(in.Environments, envs...)
	d, err := s.digestRef(ctx, a)
	if err != nil {
		return nil, err
	}
	_, client, err := s.Registry(ctx)
	if err != nil {
		return nil, err
	}
	idx, err := remote.Referrers(d, client.Options(ctx)...)
	if err == nil {
		if m, err := idx.IndexManifest(); err == nil {
			for _, r := range m.Manifests {
				in.Referrers = append(in.Referrers, Referrer{Digest: r.Digest.String(), ArtifactType: r.ArtifactType})
			}
		}
	}
	return in, nil
}

func (s *Service) resolveTag(ctx context.Context, ref Ref) (string, error) {
	repo, err := s.Repository(ctx, ref.Repo)
	if err != nil {
		return "", err
	}
	_, client, err := s.Registry(ctx)
	if err != nil {
		return "", err
	}
	h, err := client.Resolve(ctx, repo.Tag(ref.Tag))
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// GC plans (and with apply, performs) the retention policy for repo, or
// for every repository when repo is "".
func (s *Service) GC(ctx context.Context, repo string, p artifact.GCPolicy, window time.Duration, apply bool, logf func(string, ...any)) ([]artifact.GCItem, error) {
	repos := []string{repo}
	if repo == "" {
		arts, err := s.o.Artifacts.List(ctx, store.ArtifactFilter{})
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		repos = nil
		for _, a := range arts {
			if !seen[a.Repo] {
				seen[a.Repo] = true
				repos = append(repos, a.Repo)
			}
		}
	}
	var all []artifact.GCItem
	for _, r := range repos {
		items, err := artifact.PlanGC(ctx, s.o.Artifacts, r, p, time.Now(), window)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
	}
	if !apply {
		return all, nil
	}
	host, client, err := s.Registry(ctx)
	if err != nil {
		return nil, err
	}
	return all, artifact.ApplyGC(ctx, client, s.o.Artifacts, host, all, logf)
}

// Lookup resolves an artifact reference (by digest or by tag) to the
// published artifact's record; a tag is resolved once, here, so what is
// checked is what runs.
func (s *Service) Lookup(ctx context.Context, refText string) (*store.Artifact, error) {
	ref, err := s.ParseRef(ctx, refText)
	if err != nil {
		return nil, err
	}
	if ref.Digest == "" {
		if ref.Digest, err = s.resolveTag(ctx, ref); err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
	}
	a, err := s.o.Artifacts.Get(ctx, ref.Repo, ref.Digest)
	if err != nil {
		return nil, fmt.Errorf("%s: not published by slipway here: %w", ref, err)
	}
	return a, nil
}
