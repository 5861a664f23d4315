package sast

import (
	"context"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/analyzers"
	"github.com/securego/gosec/v2/issue"
	"github.com/securego/gosec/v2/rules"
	"golang.org/x/tools/go/packages"
)

// newAnalyzer is gosec with every rule and analyzer, its default config
// (so `#nosec` is honoured), tests not scanned and generated files skipped.
func newAnalyzer() *gosec.Analyzer {
	a := gosec.NewAnalyzer(gosec.NewConfig(), false, true, false, 1, log.New(io.Discard, "", 0))
	a.LoadRules(rules.Generate(false).RulesInfo())
	a.LoadAnalyzers(analyzers.Generate(false).AnalyzersInfo())
	return a
}

// check loads every package in one `go list` and type-check pass (gosec's
// Process runs one per package, several times slower on a whole module),
// then runs gosec over the packages on workers analyzers, one analyzer per
// worker since an Analyzer is not safe for concurrent use.
func check(ctx context.Context, root string, dirs []string, workers int) ([]*issue.Issue, *gosec.Metrics, map[string][]gosec.Error, error) {
	patterns := make([]string, 0, len(dirs))
	for _, d := range dirs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			return nil, nil, nil, err
		}
		patterns = append(patterns, "./"+filepath.ToSlash(rel))
	}
	metrics := &gosec.Metrics{}
	errs := map[string][]gosec.Error{}
	if len(patterns) == 0 {
		return nil, metrics, errs, nil
	}
	cfg := &packages.Config{Context: ctx, Mode: gosec.LoadMode, Dir: root, Tests: false, Env: readOnlyEnv()}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, nil, ctx.Err()
		}
		errs[""] = append(errs[""], *gosec.NewError(0, 0, err.Error()))
		return nil, metrics, errs, nil
	}
	jobs := make(chan *packages.Package)
	var (
		mu     sync.Mutex
		issues []*issue.Issue
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			a := newAnalyzer()
			for pkg := range jobs {
				if ctx.Err() != nil || pkg.Name == "" {
					continue
				}
				if perrs, err := gosec.ParseErrors(pkg); err == nil {
					mu.Lock()
					for f, es := range perrs {
						errs[f] = append(errs[f], es...)
					}
					mu.Unlock()
				}
				a.CheckRules(pkg)
				a.CheckAnalyzers(pkg)
			}
			is, m, aerrs := a.Report()
			mu.Lock()
			defer mu.Unlock()
			issues = append(issues, is...)
			metrics.Merge(m)
			for f, es := range aerrs {
				errs[f] = append(errs[f], es...)
			}
		})
	}
	for _, pkg := range pkgs {
		jobs <- pkg
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	return issues, metrics, errs, nil
}

// readOnlyEnv is the environment without -mod=mod in GOFLAGS: a scan must
// never rewrite the go.mod or go.sum it scans.
func readOnlyEnv() []string {
	env := os.Environ()
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			var keep []string
			for _, f := range strings.Fields(v) {
				if f != "-mod=mod" {
					keep = append(keep, f)
				}
			}
			env[i] = "GOFLAGS=" + strings.Join(keep, " ")
		}
	}
	return env
}
