// Package action is the registry of built-in steps (`uses:` in a pipeline):
// the contract each built-in implements and the lookup the linter, the
// schema printer and the engine share.
package action

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/slipway-ci/slipway/internal/change"
)

// Action is one built-in step.
//
// Lifecycle: an Action is registered once at start-up and lives for the
// process. Concurrency: Run is called from many goroutines at once (one per
// running step) and must not keep state between calls except through the
// Invocation. Run honours ctx: when it is done, Run stops promptly and returns
// ctx.Err() (wrapped). Everything a user should see goes to Invocation.Output,
// which masks secrets. A returned error fails the step; its text is shown.
type Action interface {
	// Name is the value of `uses:`, e.g. "publish" or "scan/secrets".
	Name() string
	// Schema is the JSON Schema (draft 2020-12) of the `with:` block.
	Schema() json.RawMessage
	// Run performs the action.
	Run(ctx context.Context, inv *Invocation) error
}

// Invocation is what a built-in step gets to work with.
type Invocation struct {
	RunID  int64
	Step   string            // instance name, e.g. "publish" or "test[go=1.22]"
	Root   string            // checkout root, absolute
	Dir    string            // the step's working directory, absolute
	With   map[string]any    // validated against Schema, matrix values substituted
	Env    map[string]string // the step's environment, secrets included
	Output io.Writer         // the step's log

	Change     change.Info // the commit the run is for
	SpecFile   string      // the pipeline file, absolute
	SpecDigest string      // sha256 of the pipeline file, hex
	// Sandboxed says whether every `run:` step of this run ran in the
	// sandbox, which provenance must not claim when it is false.
	Sandboxed  bool
	RunStarted time.Time
}

// Planned lists built-ins that later versions bring; lint names them
// distinctly from typos.
var Planned = []string{
	"publish", "sbom", "sign", "attest", "scan/secrets", "scan/deps", "scan/sast",
	"scan/image", "gate", "deploy",
}

// Registry holds the built-ins of this build.
type Registry struct {
	mu       sync.Mutex
	actions  map[string]Action
	compiled map[string]*jsonschema.Schema
}

// NewRegistry returns a registry holding actions.
func NewRegistry(actions ...Action) *Registry {
	r := &Registry{actions: map[string]Action{}, compiled: map[string]*jsonschema.Schema{}}
	for _, a := range actions {
		r.actions[a.Name()] = a
	}
	return r
}

// Lookup returns the action named name.
func (r *Registry) Lookup(name string) (Action, bool) {
	if r == nil {
		return nil, false
	}
	a, ok := r.actions[name]
	return a, ok
}

// Names lists the registered actions, sorted.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.actions))
	for n := range r.actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate checks with against the action's schema. The returned error, when
// not nil, is a *jsonschema.ValidationError whose causes carry the location
// inside `with:` of each problem.
func (r *Registry) Validate(name string, with map[string]any) error {
	s, err := r.schema(name)
	if err != nil {
		return err
	}
	// The validator wants JSON-shaped values (float64, []any, map[string]any).
	var inst any = map[string]any{}
	if with != nil {
		raw, err := json.Marshal(with)
		if err != nil {
			return fmt.Errorf("with: %w", err)
		}
		inst, err = jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
		if err != nil {
			return fmt.Errorf("with: %w", err)
		}
	}
	return s.Validate(inst)
}

func (r *Registry) schema(name string) (*jsonschema.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.compiled[name]; ok {
		return s, nil
	}
	a, ok := r.actions[name]
	if !ok {
		return nil, fmt.Errorf("unknown built-in %q", name)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(a.Schema())))
	if err != nil {
		return nil, fmt.Errorf("built-in %q: bad schema: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	url := "slipway:/actions/" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("built-in %q: bad schema: %w", name, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("built-in %q: bad schema: %w", name, err)
	}
	r.compiled[name] = s
	return s, nil
}
