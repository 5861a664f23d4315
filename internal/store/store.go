// Package store is slipway's persistence, split by aggregate (runs, tests,
// cache index) behind small interfaces. The embedded implementation is
// sqlite/; a PostgreSQL implementation passes the same contract suite
// (storetest).
//
// # Contract
//
// A Store is safe for concurrent use by many goroutines and, for the
// embedded implementation, by several slipway processes sharing one state
// dir. Every method is atomic: Save writes all its records in one
// transaction, and a successful return means the records are durable. A
// record that is not found is reported with an error wrapping ErrNotFound.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is wrapped by errors about records that do not exist.
var ErrNotFound = errors.New("not found")

// Store gives access to every aggregate.
type Store interface {
	Runs() Runs
	Tests() Tests
	CacheIndex() CacheIndex
	Artifacts() Artifacts
	Scans() Scans
	Deployments() Deployments
	Close() error
}

// Status of a run, a step or an attempt.
type Status string

// Statuses. A run is Running until it ends; a step goes Queued → Running →
// one of the final statuses. Interrupted marks what a crashed slipway left
// running; `slipway run --resume` runs it again.
const (
	Queued  Status = "queued"
	Running Status = "running"
	Success Status = "success"
	Failure Status = "failure"
	// FailureAllowed is a failure of a `continue-on-error` step: shown as
	// failed, counted as success by its dependants and the run.
	FailureAllowed Status = "failure-allowed"
	Skipped        Status = "skipped"
	Blocked        Status = "blocked"
	Cancelled      Status = "cancelled"
	Interrupted    Status = "interrupted"
)

// OK reports whether the status lets dependants run (success() is true).
func (s Status) OK() bool { return s == Success || s == Skipped || s == FailureAllowed }

// Final reports whether the status no longer changes (for this attempt).
func (s Status) Final() bool { return s != Queued && s != Running && s != "" }

// Run is one execution of a pipeline for one commit.
type Run struct {
	ID         int64
	Status     Status
	Attempt    int // 1, then +1 for each --resume
	Dir        string
	SpecFile   string
	SpecDigest string
	Commit     string
	Branch     string
	Tag        string
	Event      string
	Base       string
	BaseRule   string
	BaseReason string
	Group      string // concurrency group
	PID        int    // the slipway process running it
	Error      string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// Step is the latest state of one step instance of a run.
type Step struct {
	RunID      int64
	Name       string
	Index      int
	Status     Status
	Reason     string // why skipped, blocked, failed...
	Attempts   int
	RunAttempt int // run attempt in which it last ran
	ExitCode   int
	CacheKey   string
	CacheHit   bool
	Outputs    string // digest of the outputs tree, "" when none
	StartedAt  time.Time
	FinishedAt time.Time
}

// Attempt is one try of one step.
type Attempt struct {
	RunID      int64
	Step       string
	Number     int
	RunAttempt int
	Status     Status
	ExitCode   int
	Signal     string
	Executor   string
	Ref        string // executor process reference, to reap after a crash
	LogPath    string // relative to the state dir
	LogSize    int64
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// TestResult is one test case outcome reported by one step attempt.
type TestResult struct {
	RunID       int64
	Step        string
	Attempt     int
	Commit      string
	Suite       string
	Name        string
	Outcome     string
	Duration    time.Duration
	Message     string
	Quarantined bool
}

// Record is anything Runs.Save writes: *Run, *Step, *Attempt or []TestResult.
type Record interface{ record() }

func (*Run) record()        {}
func (*Step) record()       {}
func (*Attempt) record()    {}
func (TestResults) record() {}

// TestResults is a batch of test results for Save.
type TestResults []TestResult

// RunFilter selects runs; zero fields match everything.
type RunFilter struct {
	Dir        string
	Commit     string
	SpecDigest string
	Status     []Status
	Group      string
	Before     time.Time // created before
	Limit      int       // newest first
}

// Runs is the runs aggregate: runs, their steps and attempts.
type Runs interface {
	// Create inserts a new run and sets its ID.
	Create(ctx context.Context, r *Run) error
	// Save upserts records in one transaction: runs and steps by key, attempts
	// by (run, step, number); test results are appended.
	Save(ctx context.Context, records ...Record) error
	Get(ctx context.Context, id int64) (*Run, error)
	List(ctx context.Context, f RunFilter) ([]*Run, error)
	Steps(ctx context.Context, runID int64) ([]*Step, error)
	Attempts(ctx context.Context, runID int64) ([]*Attempt, error)
	// Delete removes runs with their steps, attempts and test results.
	Delete(ctx context.Context, ids ...int64) error
	// OutputDigests lists the outputs digests that retained steps reference.
	OutputDigests(ctx context.Context) ([]string, error)
}

// TestFilter selects test results.
type TestFilter struct {
	RunID  int64
	Commit string
	Since  time.Time // by run creation time
}

// Tests is the test results aggregate.
type Tests interface {
	Results(ctx context.Context, f TestFilter) ([]TestResult, error)
}

// CacheEntry is one step cache entry.
type CacheEntry struct {
	Key       string
	Step      string // the step that produced it, for display
	Outputs   string // outputs tree digest ("" = none)
	Log       string // log blob digest
	Size      int64  // bytes of outputs and log
	CreatedAt time.Time
	LastUsed  time.Time
	Hits      int
}

// CacheIndex records which cache entries exist, for lookup and LRU eviction.
type CacheIndex interface {
	Get(ctx context.Context, key string) (*CacheEntry, error)
	Put(ctx context.Context, e *CacheEntry) error
	// Touch records a hit.
	Touch(ctx context.Context, key string, at time.Time) error
	// List returns every entry, least recently used first.
	List(ctx context.Context) ([]*CacheEntry, error)
	Delete(ctx context.Context, keys ...string) error
}
