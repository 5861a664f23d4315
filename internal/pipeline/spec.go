// Package pipeline reads a repository's pipeline spec (.slipway.yaml): the
// typed spec, its YAML decoding with file:line:col errors, lint, conditions
// (CEL), matrix expansion and the DAG that the engine schedules.
package pipeline

import (
	"time"

	"github.com/slipway-ci/slipway/internal/gate"
)

// DefaultFile is the pipeline spec's name at the repository root.
const DefaultFile = ".slipway.yaml"

// Spec is one parsed pipeline.
type Spec struct {
	File        string
	Digest      string // sha256 of the file's bytes, hex
	Concurrency *Concurrency
	Env         map[string]string // applies to every step; a step's env wins
	Timeout     time.Duration     // whole run; 0 = the configured default
	Steps       []*Step           // in file order
	// Environments are where artifacts are promoted, in file order.
	Environments []*Environment
	// Gates is the `gates:` policy (from the pipeline or .slipway/gates.yaml);
	// nil when neither has one. With it, the run ends with a gate step.
	Gates    *gate.Policy
	GatesPos Pos
}

// Concurrency serialises runs of the same group across processes.
type Concurrency struct {
	Group            string
	CancelInProgress bool
}

// Pos is a place in the spec file.
type Pos struct{ Line, Col int }

// Step is one step as written, before matrix expansion.
type Step struct {
	Name string
	Pos  Pos

	Run   string // shell script; "" for a built-in
	Shell string // "sh" or "bash"
	Uses  string // built-in action name; "" for run
	With  map[string]any

	Env             map[string]string
	Needs           []Ref
	If              string
	IfPos           Pos
	Paths           []string
	PathsIgnore     []string
	Matrix          *Matrix
	Timeout         time.Duration
	Retry           Retry
	Outputs         []string
	Cache           *CacheSpec
	Secrets         []string
	Workdir         string
	ContinueOnError bool
	Reports         Reports
	Sandbox         string // "", "on", "off", "strict"
	Executor        string // "local"

	cond *Condition // compiled If
}

// Ref names another step (a `needs:` entry) where it was written.
type Ref struct {
	Name string
	Pos  Pos
}

// Retry says how often and on what a step is retried.
type Retry struct {
	Max       int
	When      []string // "failure", "timeout", "executor-error"
	ExitCodes []int
}

// Retry reasons.
const (
	RetryFailure       = "failure"
	RetryTimeout       = "timeout"
	RetryExecutorError = "executor-error"
)

// CacheSpec opts a step into the content-addressed step cache.
type CacheSpec struct {
	Inputs []string // globs relative to the step's workdir
	Env    []string // names of slipway's environment variables whose values go into the key
}

// Reports names test report files a step produces.
type Reports struct {
	JUnit      []string
	GoTestJSON []string
	// Read by the gate: coverage (Go coverprofile, Cobertura XML, LCOV) and
	// SARIF 2.1.0 from other tools (golangci-lint, semgrep, eslint...).
	GoCover   []string
	Cobertura []string
	LCOV      []string
	SARIF     []string
}

// Empty reports whether no report is declared.
func (r Reports) Empty() bool {
	return len(r.JUnit)+len(r.GoTestJSON)+len(r.GoCover)+len(r.Cobertura)+len(r.LCOV)+len(r.SARIF) == 0
}

// reportKinds are the keys of `reports:`.
var reportKinds = []string{"junit", "go-test-json", "go-coverprofile", "cobertura", "lcov", "sarif"}

// byKind lists the declared globs per report kind, in reportKinds order.
func (r *Reports) byKind() []*[]string {
	return []*[]string{&r.JUnit, &r.GoTestJSON, &r.GoCover, &r.Cobertura, &r.LCOV, &r.SARIF}
}

// Matrix expands a step into one instance per combination.
type Matrix struct {
	Dims    []Dim               // in file order
	Exclude []map[string]string // partial combinations to drop
	Include []map[string]string // full combinations to add
}

// Dim is one matrix dimension.
type Dim struct {
	Name   string
	Values []string
}

// Step keys, in the order the schema and suggestions list them.
var stepKeys = []string{
	"run", "shell", "uses", "with", "env", "needs", "if", "paths", "paths-ignore", "matrix",
	"timeout", "retry", "outputs", "cache", "secrets", "workdir", "continue-on-error",
	"reports", "sandbox", "executor",
}

var topKeys = []string{"steps", "env", "timeout", "concurrency", "environments", "gates"}
