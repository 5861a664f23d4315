package engine

import (
	"time"

	"github.com/slipway-ci/slipway/internal/store"
)

// Observer receives a run's progress, for terminals and JSON output. The
// engine calls it from several goroutines, but never concurrently for the
// same step; implementations serialise their own output. Calls must be fast:
// they sit on the log path.
type Observer interface {
	RunStarted(r *store.Run, steps []*store.Step)
	StepStarted(step string, attempt int)
	// StepLog gets each complete line of a step's (masked) output, without
	// the newline; a last line without newline comes at the end of the step.
	StepLog(step string, line []byte)
	StepFinished(s *store.Step, d time.Duration)
	// Notice is a message from slipway about the run (a warning, a retry).
	Notice(step, msg string)
	RunFinished(r *store.Run, steps []*store.Step)
}

// Discard is an Observer that ignores everything.
type Discard struct{}

func (Discard) RunStarted(*store.Run, []*store.Step)    {}
func (Discard) StepStarted(string, int)                 {}
func (Discard) StepLog(string, []byte)                  {}
func (Discard) StepFinished(*store.Step, time.Duration) {}
func (Discard) Notice(string, string)                   {}
func (Discard) RunFinished(*store.Run, []*store.Step)   {}
