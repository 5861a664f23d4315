package pipeline

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/analysis"
)

// TargetLocal runs the artifact's binary as supervised replicas behind
// slipway's own router (`slipway up`).
const TargetLocal = "local"

// Strategies.
const (
	StrategyRolling   = "rolling"
	StrategyBlueGreen = "blue-green"
	StrategyCanary    = "canary"
)

// Deploy is how slipway deploys an environment whose target is not
// external.
type Deploy struct {
	Service          string                     `json:"service,omitempty"`        // default: the artifact's repository
	Listen           string                     `json:"listen,omitempty"`         // the router's address; "" = a free loopback port, kept across deployments
	Replicas         int                        `json:"replicas,omitempty"`       // per version; default 2
	Strategy         string                     `json:"strategy,omitempty"`       // rolling (default), blue-green, canary
	MaxSurge         int                        `json:"maxSurge,omitempty"`       // rolling: replicas above Replicas during the update; default 1
	MaxUnavailable   int                        `json:"maxUnavailable,omitempty"` // rolling: ready replicas that may be missing; default 0
	ScaleDownDelay   time.Duration              `json:"scaleDownDelay,omitempty"` // how long a version keeps running after traffic left it (a switch, a canary's end, a rollback); default 30s
	PrePromotion     []string                   `json:"prePromotion,omitempty"`   // blue-green: analyses run against the preview before the switch
	Steps            []CanaryStep               `json:"steps,omitempty"`          // canary
	Background       []string                   `json:"background,omitempty"`     // canary: analyses that run for the whole canary
	Analyses         map[string]json.RawMessage `json:"analyses,omitempty"`
	Readiness        *Probe                     `json:"readiness,omitempty"`
	Liveness         *Probe                     `json:"liveness,omitempty"`
	MemoryBytes      int64                      `json:"memoryBytes,omitempty"`
	CPUMillis        int                        `json:"cpuMillis,omitempty"`
	Env              map[string]string          `json:"env,omitempty"`
	Secrets          []string                   `json:"secrets,omitempty"`
	Approval         bool                       `json:"approval,omitempty"`         // a deployment waits for `slipway deploy approve`
	ProgressDeadline time.Duration              `json:"progressDeadline,omitempty"` // no progress for this long fails and rolls back; default 10m
	Soak             time.Duration              `json:"soak,omitempty"`             // how long the artifact must have been in `requires:` first
	CanaryHeader     string                     `json:"canaryHeader,omitempty"`     // default X-Slipway-Canary
	StopGrace        time.Duration              `json:"stopGrace,omitempty"`        // SIGTERM to SIGKILL; default 10s
}

func defaultDeploy() *Deploy {
	return &Deploy{Replicas: 2, Strategy: StrategyRolling, MaxSurge: 1, ScaleDownDelay: 30 * time.Second,
		ProgressDeadline: 10 * time.Minute, CanaryHeader: "X-Slipway-Canary", StopGrace: 10 * time.Second}
}

// CanaryStep is one step of a canary: exactly one field is set.
type CanaryStep struct {
	Pos       Pos            `json:"-"`
	Index     int            `json:"-"`                   // in canary.steps
	SetWeight *float64       `json:"setWeight,omitempty"` // percent of traffic on the canary
	Pause     *time.Duration `json:"pause,omitempty"`     // 0 waits for `slipway deploy resume`
	Analysis  []string       `json:"analysis,omitempty"`  // analyses that must succeed before the next step
}

// Probe is an HTTP check of a replica on its loopback port.
type Probe struct {
	Path             string        `json:"path,omitempty"`
	Interval         time.Duration `json:"interval,omitempty"`
	Timeout          time.Duration `json:"timeout,omitempty"`
	FailureThreshold int           `json:"failureThreshold,omitempty"`
	InitialDelay     time.Duration `json:"initialDelay,omitempty"`
}

var deployKeys = []string{"service", "listen", "replicas", "strategy", "rolling", "blue-green", "canary", "analysis",
	"probes", "resources", "env", "secrets", "approval", "progress-deadline", "soak", "canary-header", "stop-grace",
	"scale-down-delay"}

// deploy decodes the deployment keys of an environment whose target is
// local; f is one of deployKeys.
func (p *decoder) deploy(e *Environment, key string, n *yaml.Node) {
	if e.Deploy == nil {
		e.Deploy = defaultDeploy()
	}
	d, what := e.Deploy, "environments."+e.Name+"."+key
	switch key {
	case "service":
		d.Service = p.d.String(n, what)
	case "listen":
		d.Listen = p.d.String(n, what)
	case "replicas":
		d.Replicas = p.d.Int(n, what, 1, 100)
	case "strategy":
		d.Strategy = p.d.String(n, what)
		if s := []string{StrategyRolling, StrategyBlueGreen, StrategyCanary}; !slices.Contains(s, d.Strategy) {
			p.d.Errorf(n, "%s: unknown strategy %q; use one of %v%s", what, d.Strategy, s, suggest(d.Strategy, s))
		}
	case "rolling":
		for _, f := range p.d.Mapping(n, what, []string{"max-surge", "max-unavailable"}) {
			if f.Name == "max-surge" {
				d.MaxSurge = p.d.Int(f.Value, what+".max-surge", 0, 100)
			} else {
				d.MaxUnavailable = p.d.Int(f.Value, what+".max-unavailable", 0, 100)
			}
		}
	case "blue-green":
		for _, f := range p.d.Mapping(n, what, []string{"scale-down-delay", "pre-promotion-analysis"}) {
			if f.Name == "scale-down-delay" {
				d.ScaleDownDelay = p.d.Duration(f.Value, what+".scale-down-delay")
			} else {
				d.PrePromotion = p.d.StringOrList(f.Value, what+".pre-promotion-analysis")
			}
		}
	case "canary":
		p.canary(d, what, n)
	case "analysis":
		d.Analyses = map[string]json.RawMessage{}
		for _, f := range p.d.Mapping(n, what, nil) {
			raw, err := nodeJSON(f.Value)
			if err != nil {
				p.d.Errorf(f.Value, "%s.%s: %v", what, f.Name, err)
				continue
			}
			if err := checkAnalysis(raw); err != nil {
				p.d.Errorf(f.Value, "%s.%s: %v", what, f.Name, err)
			}
			d.Analyses[f.Name] = raw
		}
	case "probes":
		for _, f := range p.d.Mapping(n, what, []string{"readiness", "liveness"}) {
			pr := p.probe(f.Value, what+"."+f.Name)
			if f.Name == "readiness" {
				d.Readiness = pr
			} else {
				d.Liveness = pr
			}
		}
	case "resources":
		for _, f := range p.d.Mapping(n, what, []string{"memory", "cpu"}) {
			v := p.d.String(f.Value, what+"."+f.Name)
			var err error
			if f.Name == "memory" {
				d.MemoryBytes, err = ParseMemory(v)
			} else {
				d.CPUMillis, err = ParseCPU(v)
			}
			if err != nil {
				p.d.Errorf(f.Value, "%s.%s: %v", what, f.Name, err)
			}
		}
	case "env":
		d.Env = p.d.StringMap(n, what)
	case "secrets":
		d.Secrets = p.d.StringList(n, what)
	case "approval":
		v := p.d.String(n, what)
		if v != "required" && v != "none" {
			p.d.Errorf(n, "%s: use required or none, not %q", what, v)
		}
		d.Approval = v == "required"
	case "progress-deadline":
		d.ProgressDeadline = p.d.Duration(n, what)
	case "soak":
		d.Soak = p.d.Duration(n, what)
	case "canary-header":
		d.CanaryHeader = p.d.String(n, what)
	case "scale-down-delay":
		d.ScaleDownDelay = p.d.Duration(n, what)
	case "stop-grace":
		d.StopGrace = p.d.Duration(n, what)
	}
}

func (p *decoder) canary(d *Deploy, what string, n *yaml.Node) {
	var loop canaryLoop
	for _, f := range p.d.Mapping(n, what, []string{"steps", "analysis", "step-weight", "max-weight", "step-pause", "step-analysis"}) {
		switch f.Name {
		case "steps":
			d.Steps = p.canarySteps(f.Value, what+".steps")
		case "analysis":
			d.Background = p.d.StringOrList(f.Value, what+".analysis")
		case "step-weight":
			loop.step, loop.at = p.weight(f.Value, what+".step-weight"), f.Value
		case "max-weight":
			loop.max, loop.maxAt = p.weight(f.Value, what+".max-weight"), f.Value
		case "step-pause":
			loop.pause = p.d.Duration(f.Value, what+".step-pause")
		case "step-analysis":
			loop.analysis = p.d.StringOrList(f.Value, what+".step-analysis")
		}
	}
	p.expandLoop(d, what, n, loop)
}

func (p *decoder) canarySteps(n *yaml.Node, what string) []CanaryStep {
	if n.Kind != yaml.SequenceNode {
		p.d.Errorf(n, "%s must be a list", what)
		return nil
	}
	var steps []CanaryStep
	for i, sn := range n.Content {
		sw := fmt.Sprintf("%s[%d]", what, i)
		fields := p.d.Mapping(sn, sw, []string{"set-weight", "pause", "analysis"})
		if len(fields) != 1 {
			p.d.Errorf(sn, "%s: a step has exactly one of set-weight, pause, analysis", sw)
			continue
		}
		st, fv := CanaryStep{Pos: Pos{sn.Line, sn.Column}, Index: i}, fields[0].Value
		switch fields[0].Name {
		case "set-weight":
			w := p.weight(fv, sw+".set-weight")
			st.SetWeight = &w
		case "pause":
			var dur time.Duration
			for _, pf := range p.d.Mapping(fv, sw+".pause", []string{"duration"}) {
				dur = p.d.Duration(pf.Value, sw+".pause.duration")
			}
			st.Pause = &dur
		case "analysis":
			st.Analysis = p.d.StringOrList(fv, sw+".analysis")
		}
		steps = append(steps, st)
	}
	return steps
}

func (p *decoder) weight(n *yaml.Node, what string) float64 {
	w, err := strconv.ParseFloat(p.d.String(n, what), 64)
	if err != nil || w < 0 || w > 100 || math.IsNaN(w) {
		p.d.Errorf(n, "%s must be a percentage from 0 to 100", what)
	}
	return w
}

func (p *decoder) probe(n *yaml.Node, what string) *Probe {
	pr := &Probe{Interval: 2 * time.Second, Timeout: time.Second, FailureThreshold: 3}
	for _, f := range p.d.Mapping(n, what, []string{"path", "interval", "timeout", "failure-threshold", "initial-delay"}) {
		switch f.Name {
		case "path":
			pr.Path = p.d.String(f.Value, what+".path")
			if !strings.HasPrefix(pr.Path, "/") {
				p.d.Errorf(f.Value, "%s.path must start with /", what)
			}
		case "interval":
			pr.Interval = p.d.Duration(f.Value, what+".interval")
		case "timeout":
			pr.Timeout = p.d.Duration(f.Value, what+".timeout")
		case "failure-threshold":
			pr.FailureThreshold = p.d.Int(f.Value, what+".failure-threshold", 1, 100)
		case "initial-delay":
			pr.InitialDelay = p.d.Duration(f.Value, what+".initial-delay")
		}
	}
	if pr.Path == "" {
		p.d.Errorf(n, "%s.path is required", what)
	}
	return pr
}

// lintDeploy checks what needs the whole environment: analyses named by
// steps exist, a canary has steps, probes exist for rolling updates.
func (p *decoder) lintDeploy(e *Environment) {
	d, at := e.Deploy, e.Pos
	if e.Target != TargetLocal {
		if d != nil && e.Target == TargetExternal {
			p.errAt(at, "environments.%s: deployment settings need target: %s (an external target is deployed by another tool)", e.Name, TargetLocal)
		}
		return
	}
	if d == nil {
		d = defaultDeploy()
		e.Deploy = d
	}
	known := make([]string, 0, len(d.Analyses))
	for k := range d.Analyses {
		known = append(known, k)
	}
	check := func(names []string, pos Pos, where string) {
		for _, a := range names {
			if _, ok := d.Analyses[a]; !ok {
				p.errAt(pos, "environments.%s.%s: no analysis %q under analysis:%s", e.Name, where, a, suggest(a, known))
			}
		}
	}
	check(d.PrePromotion, at, "blue-green.pre-promotion-analysis")
	check(d.Background, at, "canary.analysis")
	reported := map[string]bool{} // a loop's steps share one position: say it once
	for _, st := range d.Steps {
		where := fmt.Sprintf("canary.steps[%d].analysis", st.Index)
		if st.Index < 0 {
			where = "canary.step-analysis"
		}
		if st.Analysis == nil || reported[where] {
			continue
		}
		reported[where] = true
		check(st.Analysis, st.Pos, where)
		for _, a := range st.Analysis {
			if m := endless(d.Analyses[a]); m != "" {
				p.errAt(st.Pos, "environments.%s.%s: metric %q of %q has an interval and no count, so the step would never end; set count (unlimited metrics belong in canary.analysis)", e.Name, where, m, a)
			}
		}
	}
	if d.Strategy == StrategyCanary && len(d.Steps) == 0 {
		p.errAt(at, "environments.%s: strategy canary needs canary.steps (set-weight, pause, analysis) or canary.step-weight", e.Name)
	}
	if d.Readiness == nil {
		p.errAt(at, "environments.%s: a local target needs probes.readiness: only ready replicas get traffic", e.Name)
	}
}

// endless names a metric of the template that measures forever (an
// interval without a count), or "".
func endless(raw json.RawMessage) string {
	t, err := analysis.DecodeTemplate(raw)
	if err != nil {
		return ""
	}
	for _, m := range t.Metrics {
		if m.EffectiveCount() == 0 {
			return m.Name
		}
	}
	return ""
}

// checkAnalysis decodes and validates an analysis template, so a bad one
// fails lint, not a deployment halfway through.
func checkAnalysis(raw json.RawMessage) error {
	t, err := analysis.DecodeTemplate(raw)
	if err != nil {
		return err
	}
	return t.Validate()
}

// nodeJSON re-encodes a YAML subtree as JSON for the package that owns its
// schema (analysis templates).
func nodeJSON(n *yaml.Node) (json.RawMessage, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// ParseMemory reads a memory size: 64Mi, 1Gi, 512M, 1G, or bytes.
func ParseMemory(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}}
	mult := int64(1)
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = v, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("memory %q: use a size such as 64Mi, 1Gi or 500M", s)
	}
	return n * mult, nil
}

// ParseCPU reads a CPU quantity in cores (0.5, 2) or millicores (500m).
func ParseCPU(s string) (int, error) {
	if v, ok := strings.CutSuffix(s, "m"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1_000_000 {
			return 0, fmt.Errorf("cpu %q: use cores (0.5) or millicores (500m)", s)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1000 || math.IsNaN(f) {
		return 0, fmt.Errorf("cpu %q: use cores (0.5) or millicores (500m)", s)
	}
	return int(math.Round(f * 1000)), nil
}

// String describes the step as a person reads it: "set-weight 20",
// "pause 1m0s", "pause until resumed", "analysis errors".
func (s CanaryStep) String() string {
	switch {
	case s.SetWeight != nil:
		return fmt.Sprintf("set-weight %g", *s.SetWeight)
	case s.Pause != nil && *s.Pause == 0:
		return "pause until resumed"
	case s.Pause != nil:
		return "pause " + s.Pause.String()
	}
	return "analysis " + strings.Join(s.Analysis, ", ")
}
