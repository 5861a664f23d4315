package release

import (
	"context"
	"errors"
	"fmt"
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
	res := &PromoteResult{}
	res.Report, err = s.Admit(ctx, ref, env, req.Policy)
	if err != nil {
		if res.Report == nil {
			return nil, err
		}
		return res, err
	}
	p, unchanged, err := s.Enter(ctx, ref, env.Name, req.Actor, req.Reason)
	if err != nil {
		return res, err
	}
	res.Promotion, res.Unchanged, res.Took = p, unchanged, time.Since(start)
	return res, nil
}

// Admit checks that an artifact may enter env: the trust policy (the
// environment's policy tightened by its require:), then the environment's
// requires: — the artifact must have been in that environment, for at
// least the soak time when the environment deploys with one. A refusal
// wraps ErrRefused and comes with the report when verification ran.
func (s *Service) Admit(ctx context.Context, ref Ref, env *pipeline.Environment, policy *trust.Policy) (*Report, error) {
	rep, err := s.Verify(ctx, ref.String(), VerifyOptions{Env: env.Name, Extra: env.Require, Policy: policy})
	if err != nil {
		return nil, err
	}
	if !rep.OK {
		return rep, fmt.Errorf("%w: %s may not enter %s: %s", ErrRefused, ref, env.Name, rep.Reasons())
	}
	if env.Requires == "" {
		return rep, nil
	}
	hist, err := s.o.Artifacts.History(ctx, env.Requires, ref.Repo, 0)
	if err != nil {
		return rep, err
	}
	var first time.Time
	for _, p := range hist {
		if p.Digest == ref.Digest && (first.IsZero() || p.At.Before(first)) {
			first = p.At
		}
	}
	if first.IsZero() {
		return rep, fmt.Errorf("%w: %s requires %s first, and %s has never been there", ErrRefused, env.Name, env.Requires, ref)
	}
	if env.Deploy != nil && env.Deploy.Soak > 0 {
		if left := env.Deploy.Soak - time.Since(first); left > 0 {
			return rep, fmt.Errorf("%w: %s requires %s to soak in %s for %s; %s left", ErrRefused, ref, env.Name, env.Requires,
				env.Deploy.Soak, left.Round(time.Second))
		}
	}
	return rep, nil
}

// Enter moves env's tag to the artifact and records the promotion; unchanged
// when env already had it.
func (s *Service) Enter(ctx context.Context, ref Ref, env, actor, reason string) (*store.Promotion, bool, error) {
	cur, err := s.o.Artifacts.Current(ctx, env, ref.Repo)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	if err := s.moveTag(ctx, ref, env); err != nil {
		return nil, false, err
	}
	if cur != nil && cur.Digest == ref.Digest {
		return cur, true, nil
	}
	p := &store.Promotion{Env: env, Repo: ref.Repo, Digest: ref.Digest, Actor: actor, Reason: reason, At: time.Now().UTC()}
	if err := s.o.Artifacts.Promote(ctx, p); err != nil {
		return nil, false, fmt.Errorf("record promotion (the tag already moved; promoting again is safe): %w", err)
	}
	s.logf("promoted %s to %s", ref, env)
	return p, false, nil
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
