package release

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/store/sqlite"
	"github.com/slipway-ci/slipway/internal/trust"
)

// fixture is a git checkout with a binary to publish, a state dir with its
// store, and a Service serving the state dir's embedded registry.
type fixture struct {
	s     *Service
	db    *sqlite.DB
	state string
	src   string
}

func newFixture(t testing.TB, src string) *fixture {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	f := &fixture{state: t.TempDir(), src: src}
	if f.src == "" {
		f.src = t.TempDir()
		git(t, f.src, "init", "-q", "-b", "main")
		f.commit(t, "app", "#!/bin/sh\necho hello\n")
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(f.state, "slipway.db"))
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	env := map[string]string{"SLIPWAY_KEY_PASSPHRASE": "test passphrase"}
	f.s = New(Options{StateDir: f.state, Artifacts: db.Artifacts(), Getenv: func(k string) string { return env[k] }, Version: "test"})
	t.Cleanup(func() {
		f.s.Close()
		db.Close()
	})
	return f
}

func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes one file and commits it, so the next publish is a new artifact.
func (f *fixture) commit(t testing.TB, file, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.src, file), []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, f.src, "add", "-A")
	git(t, f.src, "commit", "-q", "-m", "change "+file)
}

type evidence struct{ sbom, sign, attest bool }

var all = evidence{true, true, true}

// publish builds an image around the checkout's `app` and pushes it as repo "hello".
func (f *fixture) publish(t testing.TB, ev evidence) *store.Artifact {
	t.Helper()
	ctx := context.Background()
	info, err := change.Detect(ctx, change.Options{Dir: f.src})
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.s.Publish(ctx, PublishRequest{Repo: "hello", Dir: f.src, Change: info, RunID: 1, Step: "publish",
		Image: &ImageSpec{Binary: "app", Port: 8080}, SBOM: ev.sbom, Sign: ev.sign, Attest: ev.attest,
		Provenance: ProvenanceContext{Repository: "https://example.com/hello.git", Started: time.Now()}})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return a
}

// policy requires every kind of evidence and trusts the state dir's keys.
func (f *fixture) policy(keys ...trust.Key) *trust.Policy {
	return &trust.Policy{Set: true, Keys: keys, Require: []string{trust.Signature, trust.Provenance, trust.SBOM}}
}

func signingKey(mod func(*trust.Key)) trust.Key {
	k := trust.Key{Name: "ci", Public: "keys/" + SigningKey + ".pub"}
	if mod != nil {
		mod(&k)
	}
	return k
}

func stagedSpec() *pipeline.Spec {
	return &pipeline.Spec{File: ".slipway.yaml", Environments: []*pipeline.Environment{
		{Name: "staging", Target: pipeline.TargetExternal},
		{Name: "production", Target: pipeline.TargetExternal, Requires: "staging", Require: []string{trust.SBOM}},
	}}
}
