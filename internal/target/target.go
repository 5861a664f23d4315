// Package target is the deploy target plug-in contract: where a service's
// versions run and how traffic is split between them. The deployment
// controller (internal/deploy) drives every strategy through it; the local
// target (internal/target/local) is the embedded default and a Kubernetes
// target plugs in later. Every implementation passes the shared contract
// suite in internal/target/targettest.
//
// # Model
//
// A target runs services; one service in one environment (a "slot") runs at
// most two versions at once, stable and canary, each with its own replica
// count, behind one traffic router whose Route says which share of requests
// the canary gets. The controller states the whole desired slot with Apply;
// the target converges to it.
//
// # Lifecycle
//
//   - A target is created by its package's constructor and serves until
//     Close. Close releases the target's own goroutines and listeners but
//     leaves workloads running, so `slipway up` can restart without an
//     outage; Remove is what stops a slot's workloads.
//   - A new target instance (after a restart or a crash) starts with no slot
//     in memory. The first Apply of a slot re-adopts the workloads the
//     previous instance left (by their persisted identity) instead of
//     starting new ones, and restarts those that are gone; the router comes
//     back on the same address. Only identities are persisted, never
//     Desired.Environ (it may hold secret values).
//   - Apply is idempotent: applying the same Desired twice changes nothing
//     and starts nothing. It returns once the workloads are spawned (or
//     stopped) and the route is in force; it does not wait for readiness,
//     WaitReady does. It orders its work so users never lose service:
//     new replicas start before the route changes, and versions no longer
//     desired are stopped only after the route stops sending them traffic
//     and their in-flight requests drained.
//   - Status reports the slot as it runs now; ErrUnknownSlot when the
//     target has never been told about it (since its state was created).
//
// # Concurrency
//
// Methods are safe for concurrent use. Calls for one slot are serialised by
// the caller (the controller runs one deployment per environment); calls for
// different slots may overlap. Every blocking method honours ctx.
package target

import (
	"context"
	"errors"
	"time"

	"github.com/slipway-ci/slipway/internal/analysis"
)

// ErrUnknownSlot is wrapped when a service/environment pair was never applied.
var ErrUnknownSlot = errors.New("target: unknown service or environment")

// ErrNotReady is wrapped by WaitReady when a version's replicas cannot become
// ready: they keep crashing or failing their readiness probe.
var ErrNotReady = errors.New("target: replicas not ready")

// Desired is the whole desired state of one slot.
type Desired struct {
	Service string
	Env     string
	// Versions run side by side; at most two. A version left out is stopped
	// (after the route stops sending it traffic).
	Versions []Version
	Route    Route
	// Workload says how each replica runs; a version's workload is fixed once
	// it runs (a change means a new version).
	Workload Workload
}

// Version is one artifact version in a slot.
type Version struct {
	// Name is the version label used by the router, its metrics and analysis
	// queries ({{version}}): the artifact's version.
	Name     string
	Repo     string // the artifact's repository in the registry
	Digest   string // sha256:..., what runs; checked when fetched
	Replicas int    // 0 keeps the version's route entry but no replicas
}

// Route splits a slot's traffic: CanaryWeight percent to Canary, the rest
// to Stable. Canary "" sends everything to Stable.
type Route struct {
	Stable       string  `json:"stable"`
	Canary       string  `json:"canary,omitempty"`
	CanaryWeight float64 `json:"canary_weight"`
}

// Probe is an HTTP check of a replica.
type Probe struct {
	Path             string
	Interval         time.Duration
	Timeout          time.Duration
	FailureThreshold int
	InitialDelay     time.Duration
}

// Workload is how every replica of a slot runs.
type Workload struct {
	Environ      []string // extra KEY=VALUE, secrets included; never persisted
	Readiness    Probe
	Liveness     Probe
	MemoryBytes  int64
	CPUMillis    int
	StopGrace    time.Duration
	Listen       string // the router's address; "" = keep the previous one, else a free loopback port
	CanaryHeader string // forces the canary ("always") or stable ("never")
}

// Status is a slot as it runs.
type Status struct {
	Service  string          `json:"service"`
	Env      string          `json:"environment"`
	Endpoint string          `json:"endpoint"` // where users reach it, e.g. http://127.0.0.1:PORT
	Route    Route           `json:"route"`
	Versions []VersionStatus `json:"versions"`
}

// VersionStatus is one version's replicas.
type VersionStatus struct {
	Name     string `json:"name"`
	Digest   string `json:"digest"`
	Replicas int    `json:"replicas"` // desired
	Running  int    `json:"running"`
	Ready    int    `json:"ready"`
	Restarts int    `json:"restarts"`
}

// ReplicaLog is where one replica's output is kept, for a target whose
// replicas write it to files on this host (the local target does).
type ReplicaLog struct {
	Version string `json:"version"`
	Replica string `json:"replica"`
	Path    string `json:"path"`
}

// Target is the deploy target plug-in contract; see the package doc for
// its lifecycle and concurrency rules.
type Target interface {
	// Apply converges a slot to d.
	Apply(ctx context.Context, d Desired) error
	// WaitReady waits until n replicas of version are ready; ErrNotReady
	// when they cannot be (a replica failed to start FailureThreshold
	// times), ctx's error when it ends first.
	WaitReady(ctx context.Context, service, env, version string, n int) error
	// Status reports a slot; ErrUnknownSlot when never applied.
	Status(ctx context.Context, service, env string) (Status, error)
	// Remove stops a slot's workloads and router and forgets it;
	// ErrUnknownSlot when never applied.
	Remove(ctx context.Context, service, env string) error
	// Close releases the target, leaving workloads running.
	Close() error
}

// Sampler is implemented by targets whose router measures traffic: the
// builtin analysis provider's source (cumulative per-version data).
type Sampler interface {
	Sample(service, env, version string) (analysis.Sample, error)
}
