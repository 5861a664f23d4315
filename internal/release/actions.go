package release

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/store"
)

// Actions are the supply-chain built-ins: publish, sbom, sign, attest.
func (s *Service) Actions() []action.Action {
	return []action.Action{publishAction{s}, laterAction{s, "sbom"}, laterAction{s, "sign"}, laterAction{s, "attest"}}
}

const repoPattern = `^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`

type publishAction struct{ s *Service }

func (publishAction) Name() string { return "publish" }

func (publishAction) Schema() json.RawMessage {
	return json.RawMessage(`{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "repo": {"type": "string", "pattern": "` + repoPattern + `", "description": "repository name in the registry (default: the pipeline directory's name)"},
    "image": {
      "type": "object",
      "description": "an OCI image around one static binary, built without a Docker daemon",
      "additionalProperties": false,
      "required": ["binary"],
      "properties": {
        "binary": {"type": "string"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "entrypoint": {"type": "array", "items": {"type": "string"}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "env": {"type": "array", "items": {"type": "string"}}
      }
    },
    "files": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "globs: an OCI artifact with one layer per file"},
    "sbom": {"type": "boolean"},
    "sign": {"type": "boolean"},
    "attest": {"type": "boolean"}
  },
  "oneOf": [{"required": ["image"]}, {"required": ["files"]}]
}`)
}

func (a publishAction) Run(ctx context.Context, inv *action.Invocation) error {
	var w struct {
		Repo  string `json:"repo"`
		Image *struct {
			Binary     string            `json:"binary"`
			Port       int               `json:"port"`
			Entrypoint []string          `json:"entrypoint"`
			Labels     map[string]string `json:"labels"`
			Env        []string          `json:"env"`
		} `json:"image"`
		Files              []string `json:"files"`
		SBOM, Sign, Attest bool
	}
	if err := remarshal(inv.With, &w); err != nil {
		return err
	}
	s := a.s.forStep(inv)
	req := PublishRequest{Repo: w.Repo, Dir: inv.Dir, Change: inv.Change, RunID: inv.RunID, Step: inv.Step, Files: w.Files,
		SBOM: w.SBOM, Sign: w.Sign, Attest: w.Attest, Provenance: provenanceOf(ctx, inv)}
	if req.Repo == "" {
		req.Repo = defaultRepo(inv.Dir)
	}
	if w.Image != nil {
		req.Image = &ImageSpec{Binary: w.Image.Binary, Port: w.Image.Port, Entrypoint: w.Image.Entrypoint, Labels: w.Image.Labels, Env: w.Image.Env}
	}
	_, err := s.Publish(ctx, req)
	return err
}

// laterAction is sbom, sign or attest as a step of its own, applied to the
// artifacts an earlier step of the same run published.
type laterAction struct {
	s    *Service
	name string
}

func (l laterAction) Name() string { return l.name }

func (laterAction) Schema() json.RawMessage {
	return json.RawMessage(`{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "repo": {"type": "string", "pattern": "` + repoPattern + `", "description": "only artifacts of this repository (default: every artifact this run published)"}
  }
}`)
}

func (l laterAction) Run(ctx context.Context, inv *action.Invocation) error {
	var w struct {
		Repo string `json:"repo"`
	}
	if err := remarshal(inv.With, &w); err != nil {
		return err
	}
	s := l.s.forStep(inv)
	arts, err := s.o.Artifacts.List(ctx, store.ArtifactFilter{Repo: w.Repo})
	if err != nil {
		return err
	}
	n := 0
	for _, a := range arts {
		if a.RunID != inv.RunID {
			continue
		}
		n++
		switch l.name {
		case "sign":
			err = s.Sign(ctx, a)
		case "attest":
			p := provenanceOf(ctx, inv)
			p.Commit, p.Ref = inv.Change.Commit, ref(inv.Change)
			err = s.Attest(ctx, a, p)
		case "sbom":
			err = s.AttachSBOM(ctx, a, inv.Dir, "")
		}
		if err != nil {
			return err
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: this run published no artifact%s yet; give the step `needs:` on the publish step", l.name, inRepo(w.Repo))
	}
	return nil
}

func inRepo(repo string) string {
	if repo == "" {
		return ""
	}
	return " in " + repo
}

// forStep is the service logging to the step's log.
func (s *Service) forStep(inv *action.Invocation) *Service {
	c := &Service{o: s.o}
	c.o.Log = inv.Output
	c.parent = s
	return c
}

func provenanceOf(ctx context.Context, inv *action.Invocation) ProvenanceContext {
	return ProvenanceContext{Repository: sourceRepo(ctx, inv.Change.Root), PipelineFile: relTo(inv.Change.Root, inv.SpecFile),
		PipelineDigest: "sha256:" + inv.SpecDigest, Step: inv.Step, RunID: inv.RunID, Started: inv.RunStarted, Sandboxed: inv.Sandboxed}
}

// sourceRepo names the repository: its origin remote, else its path.
func sourceRepo(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "config", "--get", "remote.origin.url").Output()
	if u := strings.TrimSpace(string(out)); err == nil && u != "" {
		return u
	}
	return "file://" + root
}

func relTo(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

func defaultRepo(dir string) string {
	return strings.ToLower(filepath.Base(dir))
}

func remarshal(in map[string]any, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}
