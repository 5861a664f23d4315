// Package sast finds security problems in Go source with gosec, run as a
// library over the packages of one module. SARIF from other tools (gosec's
// own CLI, golangci-lint, semgrep, eslint) is read by scan/sarif.Read.
package sast

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/issue"

	"github.com/slipway-ci/slipway/internal/scan"
)

// Options says what to scan.
type Options struct {
	// Root is the directory of the module to scan (a sub-directory of a
	// module scans that part of it). Findings' paths are relative to it.
	Root string
	// Exclude holds slash-separated glob patterns (with **), relative to
	// Root: a matching directory is not scanned, with everything under it,
	// and findings in matching files are dropped. testdata, vendor, hidden
	// directories and nested modules are always skipped, as `go build
	// ./...` skips them.
	Exclude []string
}

// ErrNoPackages is returned when nothing under Root could be loaded.
var ErrNoPackages = errors.New("no Go package could be loaded")

const gosecModule = "github.com/securego/gosec/v2"

// gosecVersion is the version go.mod requires, for binaries built without
// module information (test binaries); a test keeps it in step with go.mod.
const gosecVersion = "v2.30.0"

// Scan runs every gosec rule and analyzer over the Go packages under
// opts.Root. Code marked `#nosec` is left out, counted in a warning;
// generated files and tests are not scanned, as with gosec's defaults.
// Packages that fail to load or type-check are listed in Warnings and the
// rest are still scanned. ctx stops the package loading and is checked
// between packages; gosec cannot be interrupted inside one.
func Scan(ctx context.Context, opts Options) (*scan.Report, error) {
	start := time.Now()
	res, err := analyze(ctx, opts)
	if err != nil {
		return nil, err
	}
	rep := &scan.Report{
		Scanner:  scan.SAST,
		Tool:     "gosec " + Version(),
		Target:   opts.Root,
		Scanned:  res.metrics.NumFiles,
		Findings: []scan.Finding{},
	}
	for _, is := range res.issues {
		f, ok := toFinding(is, res.root, res.exclude)
		if ok {
			rep.Findings = append(rep.Findings, f)
		}
	}
	slices.SortFunc(rep.Findings, compareFindings)
	rep.Warnings = warnings(res)
	if len(res.dirs) > 0 && res.metrics.NumFiles == 0 && len(res.errors) > 0 {
		return nil, fmt.Errorf("sast: %s: %w: %s", opts.Root, ErrNoPackages, rep.Warnings[0])
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// result is gosec's raw output for one scan.
type result struct {
	root    string
	exclude matcher
	dirs    []string
	issues  []*issue.Issue
	metrics *gosec.Metrics
	errors  map[string][]gosec.Error
}

func analyze(ctx context.Context, opts Options) (*result, error) {
	root, err := absDir(opts.Root)
	if err != nil {
		return nil, err
	}
	ex, err := newMatcher(opts.Exclude)
	if err != nil {
		return nil, err
	}
	dirs, err := packageDirs(ctx, root, ex)
	if err != nil {
		return nil, err
	}
	issues, metrics, errs, err := check(ctx, root, dirs, max(runtime.GOMAXPROCS(0), 1))
	if err != nil {
		return nil, fmt.Errorf("sast: %w", err)
	}
	return &result{root: root, exclude: ex, dirs: dirs, issues: issues, metrics: metrics, errors: errs}, nil
}

func absDir(dir string) (string, error) {
	if dir == "" {
		dir = "."
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("sast: root: %w", err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return "", fmt.Errorf("sast: root: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("sast: root %s is not a directory", dir)
	}
	return root, nil
}

// Version is the gosec version linked into this binary.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == gosecModule {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return gosecVersion
}
