package deps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/lockfile"
)

// markReachability runs govulncheck once per Go module that has findings
// and classifies those findings. When govulncheck cannot run, the
// findings stay, unclassified, with a warning. Only cancellation is an
// error.
func markReachability(ctx context.Context, rep *scan.Report, opts Options, goDB string, lfs []lockfile.Lockfile) error {
	for _, lf := range lfs {
		if !isGoMod(lf.Path) || !hasFindings(rep, lf.Path) {
			continue
		}
		dir := filepath.Join(opts.Root, filepath.FromSlash(path.Dir(lf.Path)))
		called, err := govulncheck(ctx, opts.Govulncheck, dir, goDB, opts.Env)
		if ctx.Err() != nil {
			return fmt.Errorf("scan deps: %w", ctx.Err())
		}
		if err != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: reachability unknown: %v", lf.Path, err))
			continue
		}
		rep.Tool = "slipway-deps (OSV), govulncheck"
		for i := range rep.Findings {
			if f := &rep.Findings[i]; f.Path == lf.Path {
				classify(f, called)
			}
		}
	}
	return nil
}

func hasFindings(rep *scan.Report, lockfilePath string) bool {
	for _, f := range rep.Findings {
		if f.Path == lockfilePath {
			return true
		}
	}
	return false
}

// classify marks a finding reachable or not; unreachable ones drop one
// severity level, and the title says so.
func classify(f *scan.Finding, called map[string]bool) {
	if called[f.Rule] {
		f.Reachable = "yes"
		return
	}
	f.Reachable = "no"
	if lowered := lower(f.Severity); lowered != f.Severity {
		f.Title += fmt.Sprintf(" (vulnerable code not called: severity lowered from %s)", f.Severity)
		f.Severity = lowered
	} else {
		f.Title += " (vulnerable code not called)"
	}
}

func lower(s scan.Severity) scan.Severity {
	if s > scan.Info {
		return s - 1
	}
	return s
}

// govulncheck runs govulncheck on the module in dir against the Go
// vulndb goDB and returns the IDs of the vulnerabilities whose vulnerable
// symbols the module's code calls.
func govulncheck(ctx context.Context, run Runner, dir, goDB string, env []string) (map[string]bool, error) {
	abs, err := filepath.Abs(goDB)
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	args := []string{"-C", dir, "-db", "file://" + filepath.ToSlash(abs), "-json", "./..."}
	if err := run(ctx, append(os.Environ(), env...), args, &stdout, &stderr); err != nil {
		return nil, fmt.Errorf("govulncheck: %w: %s", err, clip(stderr.String()))
	}
	return calledVulns(&stdout)
}

// govulncheckMessage is the part of govulncheck's JSON protocol (v1.0.0)
// read here: a finding whose first frame names a function is a call.
type govulncheckMessage struct {
	Finding *struct {
		OSV   string `json:"osv"`
		Trace []struct {
			Module   string `json:"module"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func calledVulns(r io.Reader) (map[string]bool, error) {
	called := map[string]bool{}
	dec := json.NewDecoder(r)
	for {
		var m govulncheckMessage
		err := dec.Decode(&m)
		if err == io.EOF {
			return called, nil
		}
		if err != nil {
			return nil, fmt.Errorf("govulncheck output: %w", err)
		}
		if f := m.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" {
			called[f.OSV] = true
		}
	}
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 400 {
		return s[:400] + "..."
	}
	return s
}
