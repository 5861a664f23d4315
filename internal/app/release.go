package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/trust"
)

// TrustFile is a repository's own trust policy, relative to its root.
const TrustFile = ".slipway/trust.yaml"

// Project is a repository's pipeline and its effective trust policy.
type Project struct {
	Change change.Info
	Spec   *pipeline.Spec
	// Trust is the configured policy tightened by the repository's
	// .slipway/trust.yaml (which can never loosen it).
	Trust trust.Policy
}

// LoadProject reads the pipeline nearest dir (or file) and the trust policy
// that applies to it.
func (a *App) LoadProject(ctx context.Context, dir, file string) (*Project, error) {
	chg, err := change.Detect(ctx, change.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	specPath, err := FindSpec(dir, file, chg.Root)
	if err != nil {
		return nil, err
	}
	spec, err := pipeline.Load(specPath, a.Actions)
	if err != nil {
		return nil, err
	}
	policy, err := a.RepoTrust(chg.Root)
	if err != nil {
		return nil, err
	}
	return &Project{Change: chg, Spec: spec, Trust: policy}, nil
}

// RepoTrust is the configured policy tightened by root's trust file.
func (a *App) RepoTrust(root string) (trust.Policy, error) {
	path := filepath.Join(root, TrustFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return a.Config.Trust, nil
	}
	if err != nil {
		return trust.Policy{}, fmt.Errorf("trust policy: %w", err)
	}
	repo, err := trust.LoadRepo(path, data)
	if err != nil {
		return trust.Policy{}, err
	}
	p, err := a.Config.Trust.Tighten(repo)
	if err != nil {
		return trust.Policy{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
