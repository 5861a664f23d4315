package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrBusy is wrapped when an environment already has an active deployment:
// one deployment at a time per environment.
var ErrBusy = errors.New("busy")

// ErrConflict is wrapped when a record changed since it was read: a state
// transition whose expected state no longer holds.
var ErrConflict = errors.New("conflict")

// DeployState is where a deployment is in its life.
type DeployState string

// Deployment states. pending → (awaiting-approval) → progressing ⇄ paused
// → succeeded; or → rolling-back → rolled-back; failed only when a rollback
// itself could not complete. internal/deploy owns which moves are legal.
const (
	DeployPending          DeployState = "pending"
	DeployAwaitingApproval DeployState = "awaiting-approval"
	DeployProgressing      DeployState = "progressing"
	DeployPaused           DeployState = "paused"
	DeploySucceeded        DeployState = "succeeded"
	DeployRollingBack      DeployState = "rolling-back"
	DeployRolledBack       DeployState = "rolled-back"
	DeployFailed           DeployState = "failed"
)

// Active reports whether the deployment still holds its environment.
func (s DeployState) Active() bool {
	switch s {
	case DeploySucceeded, DeployRolledBack, DeployFailed:
		return false
	}
	return true
}

// Deployment is one attempt to make a digest current in an environment.
type Deployment struct {
	ID       int64           `json:"id"`
	Env      string          `json:"environment"`
	Service  string          `json:"service"`
	Repo     string          `json:"repo"`
	Digest   string          `json:"digest"`
	Version  string          `json:"version"`
	Strategy string          `json:"strategy"`
	State    DeployState     `json:"state"`
	Reason   string          `json:"reason,omitempty"` // why it rolled back, failed or paused
	Spec     json.RawMessage `json:"spec"`             // the environment spec it started with
	Step     int             `json:"step"`             // the current canary step
	Weight   float64         `json:"weight"`           // percent of traffic on the new version
	Stable   string          `json:"stable,omitempty"` // digest serving before it: the rollback target
	Actor    string          `json:"actor"`
	Approver string          `json:"approver,omitempty"`
	Created  time.Time       `json:"created"`
	Updated  time.Time       `json:"updated"`
	Finished time.Time       `json:"finished,omitzero"`
}

// Measurement is one analysis measurement of a deployment.
type Measurement struct {
	ID           int64     `json:"id"`
	DeploymentID int64     `json:"deployment_id"`
	Analysis     string    `json:"analysis"` // which analysis run: "step-2", "pre-promotion", "background"
	Metric       string    `json:"metric"`
	At           time.Time `json:"at"`
	Phase        string    `json:"phase"` // successful, failed, inconclusive, error
	Value        string    `json:"value"` // as measured, JSON
	Message      string    `json:"message,omitempty"`
	DryRun       bool      `json:"dry_run,omitempty"`
}

// DeploymentFilter selects deployments; zero fields match everything.
type DeploymentFilter struct {
	Env     string
	Service string
	State   DeployState
	Limit   int
}

// Deployments is the deployments aggregate.
type Deployments interface {
	// Create records d (State pending unless set) and sets its ID. It fails
	// with ErrBusy while d.Env has an active deployment.
	Create(ctx context.Context, d *Deployment) error
	Get(ctx context.Context, id int64) (*Deployment, error)
	// Active is the environment's active deployment, or ErrNotFound.
	Active(ctx context.Context, env string) (*Deployment, error)
	// List returns deployments newest first.
	List(ctx context.Context, f DeploymentFilter) ([]*Deployment, error)
	// Update writes d if its recorded state is one of from (any state when
	// from is empty), in one transaction; otherwise ErrConflict and nothing
	// is written. Updated is set by the caller.
	Update(ctx context.Context, d *Deployment, from ...DeployState) error
	// Measure records a measurement and sets its ID.
	Measure(ctx context.Context, m *Measurement) error
	// Measurements lists a deployment's measurements in the order taken.
	Measurements(ctx context.Context, deploymentID int64) ([]*Measurement, error)
}
