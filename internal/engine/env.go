package engine

import (
	"sort"
	"strconv"
	"strings"
)

// stepEnv builds a step's environment from scratch: the base (PATH, HOME,
// LANG), run metadata, the declared env, then the declared secrets. Nothing
// else of slipway's environment reaches a step.
func (r *runState) stepEnv(ns *nodeState, attempt int, tmp, home string) []string {
	env := map[string]string{}
	for _, kv := range r.e.BaseEnv {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	c := r.req.Change
	for k, v := range map[string]string{
		"HOME": home, "TMPDIR": tmp, "CI": "true", "SLIPWAY": "true",
		"SLIPWAY_RUN_ID":       strconv.FormatInt(r.run.ID, 10),
		"SLIPWAY_RUN_ATTEMPT":  strconv.Itoa(r.run.Attempt),
		"SLIPWAY_STEP":         ns.node.Name,
		"SLIPWAY_STEP_ATTEMPT": strconv.Itoa(attempt),
		"SLIPWAY_COMMIT":       c.Commit, "SLIPWAY_BRANCH": c.Branch, "SLIPWAY_TAG": c.Tag,
		"SLIPWAY_EVENT": c.Event, "SLIPWAY_BASE": c.Base, "SLIPWAY_WORKSPACE": r.req.Root,
	} {
		env[k] = v
	}
	for k, v := range ns.node.Env {
		env[k] = v
	}
	for _, s := range ns.node.Step.Secrets {
		env[s] = r.req.Secrets[s]
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// home is the HOME steps get by default: slipway's own.
func (e *Engine) home() string {
	for _, kv := range e.BaseEnv {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			return v
		}
	}
	return "/"
}
