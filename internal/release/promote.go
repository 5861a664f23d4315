package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/registry"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/trust"
)

// PromoteRequest moves one digest into one environment.
type PromoteRequest struct {
	Ref    string         // repo@sha256:...
	Env    string         // target environment
	Spec   *pipeline.Spec // declares the environments
	Policy *trust.Policy  // the configured policy tightened by the repository's; nil = configured
	Actor  string
	Reason string
}

// PromoteResult says what happened.
type PromoteResult struct {
	Promotion *store.Promotion `json:"promotion"`
	Report    *Report          `json:"verification"`
	Unchanged bool             `json:"unchanged"` // the environment already had this digest
	Took      time.Duration    `json:"took_ns"`
}

// Promote verifies the artifact with the environment's policy, checks the
// environment's `requires:`, points the environment tag at the digest (one
// manifest PUT: nothing is copied or rebuilt) and records the promotion.
func (s *Service) Promote(ctx context.Context, req PromoteRequest) (*PromoteResult, error) {
	start := time.Now()
	env := req.Spec.Environment(req.Env)
	if env == nil {
		var names []string
		for _, e := range req.Spec.Environments {
			names = append(names, e.Name)
		}
		return nil, fmt.Errorf("%s declares no environment %q (it has %v)", req.Spec.File, req.Env, names)
	}
	if env.Target != pipeline.TargetExternal {
		return nil, fmt.Errorf("%w: %s has deploy target %q: use `slipway deploy %s`, whose success moves the tag", ErrRefused, env.Name, env.Target, env.Name)
	}
	ref, err := s.ParseRef(ctx, req.Ref)
	if err != nil {
		return nil, err
	}
	if ref.Digest == "" {
		return nil, fmt.Errorf("promote by digest (%s@sha256:...), not by tag: a tag can move between checking and promoting", ref.Repo)
	}
	rep, err := s.Verify(ctx, ref.String(), VerifyOptions{Env: env.Name, Extra: env.Require, Policy: req.Policy})
	if err != nil {
		return nil, err
	}
	res := &PromoteResult{Report: rep}
	if !rep.OK {
		return res, fmt.Errorf("%w: %s may not enter %s: %s", ErrRefused, ref, env.Name, rep.Reasons())
	}
	if env.Requires != "" {
		envs, err := s.o.Artifacts.WasInEnv(ctx, ref.Repo, ref.Digest, time.Time{})
		if err != nil {
			return nil, err
		}
		if !slices.Contains(envs, env.Requires) {
			return res, fmt.Errorf("%w: %s requires %s first, and %s has never been there", ErrRefused, env.Name, env.Requires, ref)
		}
	}
	cur, err := s.o.Artifacts.Current(ctx, env.Name, ref.Repo)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := s.moveTag(ctx, ref, env.Name); err != nil {
		return nil, err
	}
	if cur != nil && cur.Digest == ref.Digest {
		res.Promotion, res.Unchanged, res.Took = cur, true, time.Since(start)
		return res, nil
	}
	p := &store.Promotion{Env: env.Name, Repo: ref.Repo, Digest: ref.Digest, Actor: req.Actor, Reason: req.Reason, At: time.Now().UTC()}
	if err := s.o.Artifacts.Promote(ctx, p); err != nil {
		return nil, fmt.Errorf("record promotion (the tag already moved; promoting again is safe): %w", err)
	}
	res.Promotion, res.Took = p, time.Since(start)
	s.logf("promoted %s to %s", ref, env.Name)
	return res, nil
}

// moveTag points repo:env at the digest. The tag moves before the record
// is written, so a crash in between leaves a state a retry completes.
func (s *Service) moveTag(ctx context.Context, ref Ref, env string) error {
	if s.Embedded() {
		if err := registry.ProtectTag(s.o.StateDir, env); err != nil {
			return err
		}
	}
	repo, err := s.Repository(ctx, ref.Repo)
	if err != nil {
		return err
	}
	_, client, err := s.Registry(ctx)
	if err != nil {
		return err
	}
	if _, err := client.Promote(ctx, repo.Digest(ref.Digest), repo.Tag(env)); err != nil {
		return fmt.Errorf("move tag %s:%s: %w", ref.Repo, env, err)
	}
	return nil
}
