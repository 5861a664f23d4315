package store

import (
	"context"
	"time"
)

// Artifact kinds.
const (
	KindImage    = "image"
	KindArtifact = "artifact"
)

// Artifact is one pushed manifest, named by its digest within a repository.
type Artifact struct {
	ID      int64      `json:"id"`
	Repo    string     `json:"repo"`   // repository without the registry host: "hello", "team/hello"
	Digest  string     `json:"digest"` // "sha256:..."
	Kind    string     `json:"kind"`   // KindImage or KindArtifact
	Tags    []string   `json:"tags"`
	Version string     `json:"version"`
	Commit  string     `json:"commit"`
	RunID   int64      `json:"run_id"`
	Size    int64      `json:"size"`
	Created time.Time  `json:"created"`
	Deleted *time.Time `json:"deleted,omitempty"` // set once retention removed it from the registry
}

// Promotion makes one digest the current one of a repository in an
// environment.
type Promotion struct {
	ID       int64     `json:"id"`
	Env      string    `json:"environment"`
	Repo     string    `json:"repo"`
	Digest   string    `json:"digest"`
	Actor    string    `json:"actor"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
	Previous string    `json:"previous,omitempty"` // digest current before this promotion, "" for the first
}

// ArtifactFilter selects artifacts; zero fields match everything.
type ArtifactFilter struct {
	Repo           string
	RunID          int64 // artifacts that run published
	Limit          int
	IncludeDeleted bool
}

// Artifacts is the artifacts aggregate: pushed artifacts, their tags and
// their promotions into environments.
type Artifacts interface {
	// Record upserts an artifact by (repo, digest) and sets its ID. Its tags
	// are added to those already recorded; a tag names one digest per
	// repository, so a tag that moves leaves the artifact it named before.
	// Non-zero fields overwrite recorded ones; recording a deleted artifact
	// again (it was pushed again) clears Deleted.
	Record(ctx context.Context, a *Artifact) error
	Get(ctx context.Context, repo, digest string) (*Artifact, error)
	// List returns artifacts newest first.
	List(ctx context.Context, f ArtifactFilter) ([]*Artifact, error)
	// Promote records a promotion in one transaction, setting its ID and
	// Previous from the promotion it replaces.
	Promote(ctx context.Context, p *Promotion) error
	// Current is the latest promotion of repo in env.
	Current(ctx context.Context, env, repo string) (*Promotion, error)
	// History lists promotions of repo in env, newest first (limit <= 0: all).
	History(ctx context.Context, env, repo string, limit int) ([]*Promotion, error)
	// WasInEnv lists, sorted, the environments in which the digest was
	// current at some moment at or after since (including now).
	WasInEnv(ctx context.Context, repo, digest string, since time.Time) ([]string, error)
	// MarkDeleted records that the artifact was removed from the registry.
	MarkDeleted(ctx context.Context, repo, digest string, at time.Time) error
}
