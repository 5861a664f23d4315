package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ci/slipway/internal/artifact"
	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/store"
)

// PublishRequest says what to build and push.
type PublishRequest struct {
	Repo    string
	Dir     string // paths below are relative to it
	Change  change.Info
	RunID   int64
	Step    string
	Image   *ImageSpec // an OCI image from a static binary; or
	Files   []string   // globs: an OCI artifact, one layer per file
	Created time.Time  // zero: SOURCE_DATE_EPOCH, else the commit time
	// Supply-chain steps done in the same step.
	SBOM, Sign, Attest bool
	Provenance         ProvenanceContext
}

// ImageSpec is the image publish builds around one binary.
type ImageSpec struct {
	Binary     string
	Port       int
	Entrypoint []string
	Labels     map[string]string
	Env        []string
}

// ErrDirty refuses to name a build of uncommitted changes after a commit.
var ErrDirty = errors.New("the work tree has uncommitted changes")

// Publish builds the artifact once, pushes it under its version and commit
// tags, records it, and does the supply-chain steps asked for.
func (s *Service) Publish(ctx context.Context, req PublishRequest) (*store.Artifact, error) {
	if !req.Change.Git || req.Change.Commit == "" {
		return nil, fmt.Errorf("publish needs a git commit to tag the artifact with (sha-<commit>); %s is not a git checkout with commits", req.Dir)
	}
	if req.Change.Dirty {
		return nil, fmt.Errorf("publish: %w; commit them (or add build outputs to .gitignore) so that sha-%s names exactly what was built", ErrDirty, short(req.Change.Commit))
	}
	created, err := s.created(ctx, req)
	if err != nil {
		return nil, err
	}
	version, err := artifact.Version(ctx, req.Change.Root)
	if err != nil {
		return nil, err
	}
	anns := map[string]string{
		"org.opencontainers.image.created":  created.UTC().Format(time.RFC3339),
		"org.opencontainers.image.revision": req.Change.Commit,
		"org.opencontainers.image.version":  version,
		"org.opencontainers.image.title":    req.Repo,
	}
	if src := req.Provenance.Repository; src != "" {
		anns["org.opencontainers.image.source"] = src
	}
	img, kind, binary, err := build(req, created, anns)
	if err != nil {
		return nil, err
	}
	repo, err := s.Repository(ctx, req.Repo)
	if err != nil {
		return nil, err
	}
	_, client, err := s.Registry(ctx)
	if err != nil {
		return nil, err
	}
	tags := []string{artifact.TagSafe(version), "sha-" + req.Change.Commit}
	digest, err := client.Push(ctx, repo, img, tags)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", req.Repo, err)
	}
	size, err := imageSize(img)
	if err != nil {
		return nil, err
	}
	a := &store.Artifact{Repo: req.Repo, Digest: digest.String(), Kind: kind, Tags: tags, Version: version,
		Commit: req.Change.Commit, RunID: req.RunID, Size: size, Created: created}
	if err := s.o.Artifacts.Record(ctx, a); err != nil {
		return nil, err
	}
	s.logf("published %s@%s (%s, %s)", req.Repo, digest, version, strings.Join(tags, ", "))
	if req.SBOM {
		if err := s.AttachSBOM(ctx, a, req.Dir, binary); err != nil {
			return a, err
		}
	}
	if req.Sign {
		if err := s.Sign(ctx, a); err != nil {
			return a, err
		}
	}
	if req.Attest {
		p := req.Provenance
		p.Step, p.Commit, p.Ref = req.Step, req.Change.Commit, ref(req.Change)
		if err := s.Attest(ctx, a, p); err != nil {
			return a, err
		}
	}
	return a, nil
}

func build(req PublishRequest, created time.Time, anns map[string]string) (v1.Image, string, string, error) {
	if (req.Image == nil) == (len(req.Files) == 0) {
		return nil, "", "", errors.New("publish: give exactly one of image (a binary) or files")
	}
	if req.Image != nil {
		bin := filepath.Join(req.Dir, req.Image.Binary)
		if _, err := os.Stat(bin); err != nil {
			return nil, "", "", fmt.Errorf("publish: image binary: %w (did a step with `outputs:` build it, and does publish `needs:` that step?)", err)
		}
		name := filepath.Base(req.Image.Binary)
		ep := req.Image.Entrypoint
		if len(ep) == 0 {
			ep = []string{"/app/" + name}
		}
		img, err := artifact.BuildImage(artifact.ImageOptions{Binary: bin, Name: name, Entrypoint: ep, Port: req.Image.Port,
			Labels: req.Image.Labels, Env: req.Image.Env, Created: created, OS: "linux", Arch: "amd64", Annotations: anns})
		return img, "image", bin, err
	}
	var files []artifact.File
	for _, g := range req.Files {
		matches, err := filepath.Glob(filepath.Join(req.Dir, g))
		if err != nil {
			return nil, "", "", fmt.Errorf("publish: files: %w", err)
		}
		if len(matches) == 0 {
			return nil, "", "", fmt.Errorf("publish: files: %q matches nothing in %s", g, req.Dir)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(req.Dir, m)
			files = append(files, artifact.File{Name: filepath.ToSlash(rel), Source: m})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	img, err := artifact.BuildArtifact(files, artifact.BuildOptions{Created: created, Annotations: anns})
	return img, "artifact", "", err
}

// created is the build's timestamp: SOURCE_DATE_EPOCH, else the commit time,
// so that rebuilding the same commit gives the same digest.
func (s *Service) created(ctx context.Context, req PublishRequest) (time.Time, error) {
	if !req.Created.IsZero() {
		return req.Created, nil
	}
	if v := s.o.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: not a number of seconds", v)
		}
		return time.Unix(secs, 0).UTC(), nil
	}
	out, err := exec.CommandContext(ctx, "git", "-C", req.Change.Root, "show", "-s", "--format=%ct", req.Change.Commit).Output()
	if err != nil {
		return time.Time{}, fmt.Errorf("commit time: %w", err)
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("commit time %q: %w", out, err)
	}
	return time.Unix(secs, 0).UTC(), nil
}

func imageSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	n := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func ref(c change.Info) string {
	switch {
	case c.Tag != "":
		return "refs/tags/" + c.Tag
	case c.Branch != "":
		return "refs/heads/" + c.Branch
	}
	return c.Commit
}
