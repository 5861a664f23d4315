package artifact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/internal/store"
)

// GCPolicy is the retention of one repository: an artifact is kept if it
// is among the KeepLast newest or younger than KeepYounger, and always if
// it is or was in an environment within the retention window.
type GCPolicy struct {
	KeepLast    int
	KeepYounger time.Duration
}

// GCItem is the decision about one artifact.
type GCItem struct {
	Artifact *store.Artifact
	Delete   bool
	Reason   string
}

// PlanGC decides, newest first, which recorded artifacts of repo to delete.
// A policy that keeps nothing is refused.
func PlanGC(ctx context.Context, arts store.Artifacts, repo string, p GCPolicy, now time.Time, window time.Duration) ([]GCItem, error) {
	if p.KeepLast <= 0 && p.KeepYounger <= 0 {
		return nil, errors.New("gc: the policy keeps nothing (set KeepLast or KeepYounger)")
	}
	list, err := arts.List(ctx, store.ArtifactFilter{Repo: repo})
	if err != nil {
		return nil, fmt.Errorf("gc %s: %w", repo, err)
	}
	items := make([]GCItem, 0, len(list))
	for i, a := range list {
		it := GCItem{Artifact: a}
		switch {
		case i < p.KeepLast:
			it.Reason = fmt.Sprintf("kept: newest %d", p.KeepLast)
		case p.KeepYounger > 0 && now.Sub(a.Created) < p.KeepYounger:
			it.Reason = fmt.Sprintf("kept: younger than %v", p.KeepYounger)
		default:
			envs, err := arts.WasInEnv(ctx, repo, a.Digest, now.Add(-window))
			if err != nil {
				return nil, fmt.Errorf("gc %s: %w", repo, err)
			}
			if len(envs) > 0 {
				it.Reason = fmt.Sprintf("kept: in %s within retention window", strings.Join(envs, ", "))
			} else {
				it.Delete = true
				it.Reason = fmt.Sprintf("delete: older than %v and not in the newest %d", p.KeepYounger, p.KeepLast)
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// sidecarSuffixes name the tags cosign and the OCI referrers tag schema
// attach to sha256-<hex>: signatures, attestations, SBOMs and the
// referrers index.
var sidecarSuffixes = []string{".sig", ".att", ".sbom", ""}

// ApplyGC deletes the items marked Delete from the registry at
// registryHost, with the signatures, attestations and referrers index
// tagged after them, then marks them deleted in the store. A manifest the
// registry no longer has counts as deleted. Each deletion is logged.
func ApplyGC(ctx context.Context, c *Client, arts store.Artifacts, registryHost string, items []GCItem, logf func(format string, args ...any)) error {
	for _, it := range items {
		if !it.Delete {
			continue
		}
		a := it.Artifact
		if err := c.deleteWithSidecars(ctx, registryHost+"/"+a.Repo, a.Digest, logf); err != nil {
			return fmt.Errorf("gc %s@%s: %w", a.Repo, a.Digest, err)
		}
		if err := arts.MarkDeleted(ctx, a.Repo, a.Digest, time.Now()); err != nil {
			return fmt.Errorf("gc %s@%s: %w", a.Repo, a.Digest, err)
		}
		logf("deleted %s/%s@%s (%s)", registryHost, a.Repo, a.Digest, it.Reason)
	}
	return nil
}

func (c *Client) deleteWithSidecars(ctx context.Context, repo, digest string, logf func(string, ...any)) error {
	for _, suffix := range sidecarSuffixes {
		ref, err := ParseRef(repo+":"+strings.Replace(digest, ":", "-", 1)+suffix, c.o.Insecure)
		if err != nil {
			return err
		}
		d, err := c.Resolve(ctx, ref)
		if isNotFound(err) {
			continue
		} else if err != nil {
			return err
		}
		if err := c.deleteDigest(ctx, ref.Context().Digest(d.String())); err != nil {
			return err
		}
		logf("deleted %s (%s)", ref, d)
	}
	ref, err := ParseRef(repo+"@"+digest, c.o.Insecure)
	if err != nil {
		return err
	}
	return c.deleteDigest(ctx, ref.(name.Digest))
}

// deleteDigest deletes a manifest; one already gone counts as deleted.
func (c *Client) deleteDigest(ctx context.Context, ref name.Digest) error {
	if err := c.Delete(ctx, ref); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}
