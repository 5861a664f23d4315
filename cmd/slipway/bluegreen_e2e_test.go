package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// blueGreenEnv is one blue-green environment whose pre-promotion analysis
// measures the preview through the canary header.
const blueGreenEnv = `
environments:
  preview:
    target: local
    listen: %s
    replicas: 2
    strategy: blue-green
    blue-green: {pre-promotion-analysis: preview-ok, scale-down-delay: 5m}
    probes:
      readiness: {path: /healthz, interval: 200ms}
    analysis:
      preview-ok:
        metrics:
          - name: requests
            interval: 1s
            count: 2
            successCondition: result > 0
            provider: {builtin: {metric: requests}}
`

// TestE2EBlueGreen deploys v1, then v2 blue-green through `slipway deploy`:
// v2 is reachable only with the canary header until its pre-promotion
// analysis passes, then takes all traffic at once; `deploy rollback` is a
// switch back to v1, which still runs.
func TestE2EBlueGreen(t *testing.T) {
	e := newEnv(t)
	repo := example(t, "hello")
	port := freePort(t)
	spec := readExample(t, "hello", ".slipway.yaml")
	spec = spec[:strings.Index(spec, "  # Deploy what this run published")] + fmt.Sprintf(blueGreenEnv, port)
	repo.Write(".slipway.yaml", spec)
	repo.Commit("blue-green")
	v1 := e.publish(t, repo.Dir())
	repo.Write("main.go", strings.Replace(readExample(t, "hello", "main.go"), "// Set at build time", "// v2. Set at build time", 1))
	repo.Commit("v2")
	v2 := e.publish(t, repo.Dir())

	// Promotion to an environment Slipway deploys is a deployment.
	if res := e.run(repo.Dir(), "artifact", "promote", "hello@"+v1.Digest, "--to", "preview"); res.code != 0 ||
		!strings.Contains(res.stdout, "preview now runs "+v1.Version) {
		t.Fatalf("promote v1: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	url := "http://" + port + "/"
	start := e.run(repo.Dir(), "deploy", "preview", "--artifact", "hello:"+strings.ReplaceAll(v2.Version, "+", "_"), "--no-wait")
	if start.code != 0 {
		t.Fatalf("deploy v2: exit %d\n%s%s", start.code, start.stdout, start.stderr)
	}
	// Until the switch, users see v1 and the header sees the preview.
	// (Before the preview runs, the route has no canary and the header is
	// ignored; while it starts, a preview request gets 503.)
	var switched time.Time
	sawPreview := false
	deadline := time.Now().Add(90 * time.Second)
	for switched.IsZero() && time.Now().Before(deadline) {
		plain, preview := versionAt(t, url, ""), versionAt(t, url, "always")
		sawPreview = sawPreview || preview == v2.Version
		switch {
		case plain == v1.Version && (preview == v2.Version || (preview == v1.Version || preview == "") && !sawPreview):
		case plain == v2.Version:
			switched = time.Now()
		default:
			t.Fatalf("before the switch: plain %q, preview %q", plain, preview)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d := e.lastDeployment(t, repo.Dir(), "preview")
	if switched.IsZero() || d.State != "succeeded" || !sawPreview {
		t.Fatalf("no switch to %s: %+v", v2.Version, d)
	}
	for range 20 {
		if got := versionAt(t, url, ""); got != v2.Version {
			t.Fatalf("after the switch a request reached %q", got)
		}
	}
	began := time.Now()
	rb := e.run(repo.Dir(), "deploy", "rollback", "preview")
	if rb.code != 0 || versionAt(t, url, "") != v1.Version {
		t.Fatalf("rollback: exit %d\n%s%s", rb.code, rb.stdout, rb.stderr)
	}
	t.Logf("rollback to the running v1 through the CLI took %s", time.Since(began))
}

type artifactRef struct {
	Digest  string `json:"digest"`
	Version string `json:"version"`
}

// publish runs the pipeline and returns the artifact it published.
func (e *env) publish(t *testing.T, dir string) artifactRef {
	t.Helper()
	if res := e.run(dir, "run"); res.code != 0 {
		t.Fatalf("run: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res := e.run(dir, "artifact", "ls", "-o", "json")
	var arts []artifactRef
	if err := json.Unmarshal([]byte(res.stdout), &arts); err != nil || len(arts) == 0 {
		t.Fatalf("artifact ls: %v\n%s", err, res.stdout)
	}
	return arts[0] // newest first
}

// versionAt asks url which version answers (canary header value, or none).
func versionAt(t *testing.T, url, canary string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if canary != "" {
		req.Header.Set("X-Slipway-Canary", canary)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("X-Slipway-Version")
}
