package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/app"
	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/gate"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

type lintOptions struct{ dir string }

func newLintCmd(g *globals) *cobra.Command {
	var o lintOptions
	cmd := &cobra.Command{
		Use:   "lint [file...]",
		Short: "Check pipeline files and repository config; every error with file:line:col",
		Long: `Lint reports every problem of .slipway.yaml (or the files given) at once, with
file:line:col, and checks .slipway/quarantine.yaml when it exists. It exits 1 when
anything is wrong.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runLint(cmd.Context(), g, o, args) },
	}
	cmd.Flags().StringVarP(&o.dir, "dir", "C", "", "checkout to lint (default: the current directory)")
	return cmd
}

type lintProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
}

func runLint(ctx context.Context, g *globals, o lintOptions, files []string) error {
	var extra []string
	if len(files) == 0 {
		info, err := change.Detect(ctx, change.Options{Dir: o.dir})
		if err != nil {
			return usageError(err)
		}
		spec, err := app.FindSpec(o.dir, "", info.Root)
		if err != nil {
			return usageError(err)
		}
		files = []string{spec}
		extra = append(extra, filepath.Join(filepath.Dir(spec), ".slipway", "quarantine.yaml"),
			filepath.Join(filepath.Dir(spec), gate.WaiversFile))
	}
	var problems []lintProblem
	reg := app.Builtins()
	for _, f := range files {
		_, err := pipeline.Load(f, reg)
		problems = append(problems, toProblems(f, err)...)
	}
	for _, f := range extra {
		var err error
		if strings.HasSuffix(f, gate.WaiversFile) {
			_, err = gate.LoadWaivers(f)
		} else {
			_, err = quality.LoadQuarantine(f)
		}
		problems = append(problems, toProblems(f, err)...)
	}
	if g.json() {
		out := map[string]any{"valid": len(problems) == 0, "files": append(files, extra...), "problems": problems}
		if problems == nil {
			out["problems"] = []lintProblem{}
		}
		json.NewEncoder(g.stdout).Encode(out) //nolint:errcheck // stdout is gone
	} else {
		for _, p := range problems {
			if p.Line > 0 {
				fmt.Fprintf(g.stdout, "%s:%d:%d: %s\n", p.File, p.Line, p.Col, p.Message)
			} else {
				fmt.Fprintf(g.stdout, "%s: %s\n", p.File, p.Message)
			}
		}
	}
	if len(problems) > 0 {
		return failedError(fmt.Errorf("%d problem(s) found", len(problems)))
	}
	if !g.json() {
		fmt.Fprintf(g.stdout, "ok: %d file(s) checked\n", len(files)+len(extra))
	}
	return nil
}

func toProblems(file string, err error) []lintProblem {
	if err == nil {
		return nil
	}
	var es yamlpos.Errors
	if errors.As(err, &es) {
		out := make([]lintProblem, len(es))
		for i, e := range es {
			out[i] = lintProblem{File: e.File, Line: e.Line, Col: e.Col, Message: e.Msg}
		}
		return out
	}
	var e *yamlpos.Error
	if errors.As(err, &e) {
		return []lintProblem{{File: e.File, Line: e.Line, Col: e.Col, Message: e.Msg}}
	}
	return []lintProblem{{File: file, Message: err.Error()}}
}
