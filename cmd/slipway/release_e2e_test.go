package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/change/changetest"
	"github.com/slipway-ci/slipway/internal/testtool"
)

// TestE2EHelloRelease is the artifacts issue's "done means": the example
// pipeline publishes a reproducible, signed, attested image of
// examples/hello to the embedded registry; promote moves it to staging then
// production by digest; cosign verifies it.
func TestE2EHelloRelease(t *testing.T) {
	cosign := testtool.Find(t, "cosign", "v3.1.3")
	e := newEnv(t)
	repo := example(t, "hello")
	externalEnvironments(t, repo)
	run := e.run(repo.Dir(), "run", "--output", "json")
	if steps := finalSteps(t, run.stdout); run.code != 0 || steps["publish"]["status"] != "success" {
		t.Fatalf("run: exit %d, publish %v\n%s", run.code, steps["publish"], run.stderr)
	}
	art := onlyArtifact(t, e, repo.Dir())
	// Two commits: the example, and its environments made external.
	if !strings.HasPrefix(art.Version, "v0.0.0-rc.2+") || !slices.Equal(art.Tags, []string{"sha-" + art.Commit, "v0.0.0-rc.2_" + art.Commit[:7]}) {
		t.Fatalf("version %q, tags %v", art.Version, art.Tags)
	}
	// Rebuilt from scratch (no cache, binary gone), the image is the same.
	os.RemoveAll(filepath.Join(repo.Dir(), "bin"))
	if again := e.run(repo.Dir(), "run", "--no-cache"); again.code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", again.code, again.stdout, again.stderr)
	}
	if a2 := onlyArtifact(t, e, repo.Dir()); a2.Digest != art.Digest {
		t.Fatalf("rebuild published %s, first build %s", a2.Digest, art.Digest)
	}

	ref := "hello@" + art.Digest
	early := e.run(repo.Dir(), "artifact", "promote", ref, "--to", "production")
	if early.code != 1 || !strings.Contains(early.stderr, "requires staging") {
		t.Fatalf("production before staging: exit %d\n%s", early.code, early.stderr)
	}
	for _, env := range []string{"staging", "production"} {
		res := e.run(repo.Dir(), "artifact", "promote", ref, "--to", env, "--output", "json")
		if res.code != 0 {
			t.Fatalf("promote to %s: exit %d\n%s", env, res.code, res.stderr)
		}
	}
	if v := e.run(repo.Dir(), "artifact", "verify", "hello:production", "--env", "production", "--deep"); v.code != 0 {
		t.Fatalf("verify: exit %d\n%s\n%s", v.code, v.stdout, v.stderr)
	}

	host := e.serveRegistry(t)
	image := host + "/hello:production"
	keys := filepath.Join(e.state, "keys")
	c := cosignCmd{bin: cosign, home: t.TempDir()}
	c.must(t, true, "verify", "--key", filepath.Join(keys, "slipway.pub"), image)
	c.must(t, true, "verify-attestation", "--type", "slsaprovenance1", "--key", filepath.Join(keys, "provenance.pub"), image)
	c.must(t, true, "verify-attestation", "--type", "cyclonedx", "--key", filepath.Join(keys, "slipway.pub"), image)
	// Another key verifies nothing, and the provenance is not signed with
	// the signing key (which steps could reach through SLIPWAY_SIGNING_KEY).
	stranger := strangerKey(t)
	c.must(t, false, "verify", "--key", stranger, image)
	c.must(t, false, "verify-attestation", "--type", "slsaprovenance1", "--key", stranger, image)
	c.must(t, false, "verify-attestation", "--type", "slsaprovenance1", "--key", filepath.Join(keys, "slipway.pub"), image)
}

// externalEnvironments makes the example's environments external (another
// tool deploys them; promotion moves their tags) and drops its deploy steps.
func externalEnvironments(t *testing.T, repo *changetest.Repo) {
	t.Helper()
	spec := readExample(t, "hello", ".slipway.yaml")
	spec = spec[:strings.Index(spec, "  # Deploy what this run published")] + `
environments:
  staging:
    target: external
  production:
    requires: staging
    trust:
      require: [signature, provenance, sbom]
`
	repo.Write(".slipway.yaml", spec)
	repo.Commit("external environments")
}

// strangerKey writes the public half of a fresh P-256 key.
func strangerKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "stranger.pub")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type artifactRecord struct {
	Digest, Version, Commit string
	Tags                    []string
}

func onlyArtifact(t *testing.T, e *env, dir string) artifactRecord {
	t.Helper()
	ls := e.run(dir, "artifact", "ls", "--output", "json")
	var arts []artifactRecord
	if err := json.Unmarshal([]byte(ls.stdout), &arts); err != nil || len(arts) != 1 {
		t.Fatalf("artifact ls: %v %d\n%s%s", err, len(arts), ls.stdout, ls.stderr)
	}
	return arts[0]
}

// serveRegistry runs `slipway registry` until the test ends and returns its address.
func (e *env) serveRegistry(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := e.command(ctx, e.state, "registry", "--output", "json")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	var info struct{ Addr string }
	if err != nil || json.Unmarshal([]byte(line), &info) != nil || info.Addr == "" {
		t.Fatalf("slipway registry printed %q (%v)", line, err)
	}
	return info.Addr
}

// cosignCmd runs cosign offline, with a private HOME and TUF cache.
type cosignCmd struct{ bin, home string }

func (c cosignCmd) must(t *testing.T, succeed bool, args ...string) {
	t.Helper()
	args = append(args, "--allow-insecure-registry", "--insecure-ignore-tlog=true")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.home
	cmd.Env = []string{"HOME=" + c.home, "TUF_ROOT=" + filepath.Join(c.home, "tuf"), "PATH=" + os.Getenv("PATH"), "SIGSTORE_NO_CACHE=true"}
	out, err := cmd.CombinedOutput()
	if (err == nil) != succeed {
		t.Fatalf("cosign %s: err %v, want success %v\n%s", strings.Join(args, " "), err, succeed, out)
	}
}
