package gatekeeper

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway-ci/slipway/internal/gate"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/sarif"
	"github.com/slipway-ci/slipway/internal/store"
)

// GateInput is one gate decision's subject: a run of a pipeline.
type GateInput struct {
	RunID  int64
	Root   string // the checkout, absolute
	Commit string
	Base   string // the base commit of the change; "" = none (all is new)
	Spec   *pipeline.Spec
	Tests  store.Tests // for the tests and tests_failed metrics; nil = not measured
	Log    io.Writer   // progress (baseline scans)
}

// Gate evaluates the spec's gates policy for a run: the findings the run's
// scan steps recorded and the SARIF its steps wrote, compared with the base
// commit's (scanned now when never recorded), the quality metrics of the
// change, and the repository's waivers.
func (s *Service) Gate(ctx context.Context, in GateInput) (*gate.Result, error) {
	if in.Spec == nil || in.Spec.Gates == nil {
		return nil, fmt.Errorf("%w: the pipeline has no gates: policy (add one to %s or %s)", ErrUsage, pipeline.DefaultFile, pipeline.GatesFile)
	}
	current, err := s.runFindings(ctx, in)
	if err != nil {
		return nil, err
	}
	base, err := s.baseFingerprints(ctx, in, current)
	if err != nil {
		return nil, err
	}
	metrics, evidence, err := s.metrics(ctx, in)
	if err != nil {
		return nil, err
	}
	waivers, err := gate.LoadWaivers(filepath.Join(in.Root, gate.WaiversFile))
	if err != nil {
		return nil, err
	}
	var findings []scan.Finding
	for _, fs := range current {
		findings = append(findings, fs...)
	}
	res := gate.Evaluate(gate.EvalInput{Policy: *in.Spec.Gates, Findings: findings, BaseFingerprints: base,
		Metrics: metrics, Evidence: evidence, Waivers: waivers, Now: s.o.Now()})
	return &res, nil
}

// runFindings gathers, per scanner, the findings of the run's scans and of
// the SARIF reports its steps declared (recorded now, as sast scans).
func (s *Service) runFindings(ctx context.Context, in GateInput) (map[string][]scan.Finding, error) {
	scans, err := s.o.Scans.ForRun(ctx, in.RunID)
	if err != nil {
		return nil, err
	}
	if err := s.ingestSARIF(ctx, in, &scans); err != nil {
		return nil, err
	}
	out := map[string][]scan.Finding{}
	seen := map[string]bool{}
	for _, sc := range scans {
		for _, f := range sc.Findings {
			if !seen[f.Fingerprint] {
				seen[f.Fingerprint] = true
				out[sc.Scanner] = append(out[sc.Scanner], f)
			}
		}
	}
	return out, nil
}

func (s *Service) ingestSARIF(ctx context.Context, in GateInput, scans *[]*store.Scan) error {
	for _, st := range in.Spec.Steps {
		for _, pattern := range st.Reports.SARIF {
			if strings.Contains(pattern, "${{") {
				continue // per matrix instance: the step's own report
			}
			files, err := filepath.Glob(filepath.Join(in.Root, pattern))
			if err != nil {
				return fmt.Errorf("step %s: reports.sarif %q: %w", st.Name, pattern, err)
			}
			for _, f := range files {
				rec, err := s.recordSARIF(ctx, in, st.Name, f)
				if err != nil {
					return err
				}
				*scans = append(*scans, rec)
			}
		}
	}
	return nil
}

func (s *Service) recordSARIF(ctx context.Context, in GateInput, step, file string) (*store.Scan, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("step %s: %w", step, err)
	}
	defer fh.Close()
	reps, err := sarif.ReadRooted(fh, file, in.Root)
	if err != nil {
		return nil, fmt.Errorf("step %s: %w", step, err)
	}
	rec := &store.Scan{RunID: in.RunID, Step: step, Dir: in.Root, Commit: in.Commit, Scanner: scan.SAST,
		Target: file, At: s.o.Now().UTC(), Findings: []scan.Finding{}}
	for _, r := range reps {
		rec.Tool = strings.TrimPrefix(rec.Tool+", "+r.Tool, ", ")
		for _, f := range r.Findings {
			f.Scanner = scan.SAST
			rec.Findings = append(rec.Findings, f)
		}
	}
	return rec, s.o.Scans.Record(ctx, rec)
}

// baseFingerprints are the findings' fingerprints at the base commit, for
// the scanners the run used. A scanner never recorded there is run on a
// temporary checkout of the base, and recorded, so the next gate need not.
func (s *Service) baseFingerprints(ctx context.Context, in GateInput, current map[string][]scan.Finding) (map[string]bool, error) {
	if in.Base == "" {
		return nil, nil
	}
	recorded, err := s.o.Scans.AtCommit(ctx, in.Root, in.Base)
	if err != nil {
		return nil, err
	}
	fps := map[string]bool{}
	have := map[string]bool{}
	for _, sc := range recorded {
		have[sc.Scanner] = true
		for _, f := range sc.Findings {
			fps[f.Fingerprint] = true
		}
	}
	var missing []string
	for kind := range current {
		switch {
		case have[kind] || s.scanners[kind] == nil:
		case kind == scan.Image: // the base's image cannot be scanned from its checkout
			if in.Log != nil {
				fmt.Fprintf(in.Log, "gate: no image scan of base %s recorded; every image finding counts as new\n", short(in.Base))
			}
		default:
			missing = append(missing, kind)
		}
	}
	if len(missing) == 0 {
		return fps, nil
	}
	slices.Sort(missing)
	dir, cleanup, err := checkoutBase(ctx, in.Root, in.Base, filepath.Join(s.o.StateDir, "tmp"))
	if err != nil {
		return nil, err
	}
	defer cleanup()
	for _, kind := range missing {
		if in.Log != nil {
			fmt.Fprintf(in.Log, "gate: no %s scan of base %s recorded; scanning it now\n", kind, short(in.Base))
		}
		t := Target{Root: dir, Dir: dir, StateDir: s.o.StateDir, With: map[string]any{}, Log: in.Log}
		t.Change.Root, t.Change.Commit = in.Root, in.Base
		rec, _, err := s.Scan(ctx, kind, t, 0, "baseline")
		if err != nil {
			return nil, fmt.Errorf("baseline %s scan of %s: %w", kind, short(in.Base), err)
		}
		for _, f := range rec.Findings {
			fps[f.Fingerprint] = true
		}
	}
	return fps, nil
}

// checkoutBase makes a detached worktree of commit under tmpRoot.
func checkoutBase(ctx context.Context, root, commit, tmpRoot string) (string, func(), error) {
	if err := os.MkdirAll(tmpRoot, 0o700); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(tmpRoot, "base-")
	if err != nil {
		return "", nil, err
	}
	out, err := exec.CommandContext(ctx, "git", "-C", root, "worktree", "add", "--detach", "--quiet", dir, commit).CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("check out base %s: %v: %s", short(commit), err, strings.TrimSpace(string(out)))
	}
	return dir, func() {
		exec.Command("git", "-C", root, "worktree", "remove", "--force", dir).Run()
		os.RemoveAll(dir)
	}, nil
}

// metrics measures the change when the policy has quality conditions.
func (s *Service) metrics(ctx context.Context, in GateInput) (map[string]float64, map[string][]scan.Finding, error) {
	if len(in.Spec.Gates.Conditions) == 0 {
		return nil, nil, nil
	}
	cov, err := coverage(in)
	if err != nil {
		return nil, nil, err
	}
	nc, err := quality.MeasureNewCode(ctx, quality.NewCodeOptions{Root: in.Root, Base: in.Base, Coverage: cov})
	if err != nil {
		return nil, nil, err
	}
	m := nc.Metrics()
	if in.Tests != nil {
		results, err := in.Tests.Results(ctx, store.TestFilter{RunID: in.RunID})
		if err != nil {
			return nil, nil, err
		}
		failed := 0
		for _, r := range results {
			if r.Outcome == string(quality.Failed) {
				failed++
			}
		}
		if len(results) > 0 {
			m["tests"], m["tests_failed"] = float64(len(results)), float64(failed)
		}
	}
	return m, nc.Evidence(), nil
}

// coverage merges every coverage report the pipeline's steps declared; nil
// when none did.
func coverage(in GateInput) (*quality.Coverage, error) {
	var merged *quality.Coverage
	var opts quality.CoverageOptions
	for _, st := range in.Spec.Steps {
		for _, kind := range []struct {
			f     quality.Format
			globs []string
		}{{quality.GoCover, st.Reports.GoCover}, {quality.Cobertura, st.Reports.Cobertura}, {quality.LCOV, st.Reports.LCOV}} {
			for _, g := range kind.globs {
				if opts.Root == "" {
					mods, err := quality.GoModules(in.Root)
					if err != nil {
						return nil, err
					}
					opts = quality.CoverageOptions{Root: in.Root, Modules: mods}
				}
				c, _, err := quality.ParseCoverageFiles(kind.f, in.Root, g, opts)
				if err != nil {
					return nil, fmt.Errorf("step %s: coverage: %w", st.Name, err)
				}
				if merged == nil {
					merged = quality.NewCoverage()
				}
				merged.Merge(c)
			}
		}
	}
	return merged, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// failedNames lists the failing conditions, for an error message.
func failedNames(r *gate.Result) string {
	var out []string
	for _, c := range r.Conditions {
		if !c.Pass {
			out = append(out, c.Name)
		}
	}
	return strings.Join(out, ", ")
}
