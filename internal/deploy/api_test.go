package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/store"
)

// apiRig serves the controller's API; the resolver reads versions from
// the call's artifact ("hello:<version>").
func apiRig(t *testing.T, yaml string) (*rig, *httptest.Server) {
	r := newRig(t, yaml)
	resolve := func(_ context.Context, c Call) (Request, error) {
		env := r.spec.Environment(c.Env)
		if env == nil {
			return Request{}, fmt.Errorf("%w: no environment %q", ErrBadCall, c.Env)
		}
		v := strings.TrimPrefix(c.Artifact, "hello:")
		return Request{Env: env, Repo: "hello", Digest: digestOf(v), Version: v, Actor: c.Actor}, nil
	}
	srv := httptest.NewServer(Handler(r.c, resolve))
	t.Cleanup(srv.Close)
	return r, srv
}

func post(t *testing.T, url string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String()
}

func TestAPIStatusCodes(t *testing.T) {
	r, srv := apiRig(t, pausedYAML)
	code, body := post(t, srv.URL+"/v1/deploy", Call{Env: "production", Artifact: "hello:v1.0.0", Actor: "a"})
	if code != http.StatusOK {
		t.Fatalf("deploy: %d %s", code, body)
	}
	var res Result
	json.Unmarshal([]byte(body), &res)
	r.until(context.Background(), res.Deployment.ID, store.DeployAwaitingApproval)
	tests := []struct {
		name, path string
		body       any
		want       int
	}{
		{"busy", "/v1/deploy", Call{Env: "production", Artifact: "hello:v2.0.0"}, http.StatusConflict},
		{"unknown environment", "/v1/deploy", Call{Env: "nowhere", Artifact: "hello:v2.0.0"}, http.StatusBadRequest},
		{"bad body", "/v1/deploy", "not a call", http.StatusBadRequest},
		{"unknown command", "/v1/envs/production/explode", Call{}, http.StatusNotFound},
		{"illegal move", "/v1/envs/production/resume", Call{Actor: "a"}, http.StatusConflict},
		{"nothing to pause", "/v1/envs/staging/pause", Call{Actor: "a"}, http.StatusNotFound},
		{"approve", "/v1/envs/production/approve", Call{Actor: "alice"}, http.StatusOK},
	}
	for _, tt := range tests {
		if code, body := post(t, srv.URL+tt.path, tt.body); code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, code, body, tt.want)
		}
	}
	// The wait stream reports each change and ends with the outcome.
	resp, err := http.Get(fmt.Sprintf("%s/v1/deployments/%d/wait", srv.URL, res.Deployment.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var last store.Deployment
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		json.Unmarshal(sc.Bytes(), &last)
	}
	if last.State != store.DeploySucceeded || last.Approver != "alice" {
		t.Fatalf("stream ended with %+v", last)
	}
	st, err := http.Get(srv.URL + "/v1/envs/nowhere")
	if err != nil || st.StatusCode != http.StatusNotFound {
		t.Fatalf("status of an unknown environment: %v %v", st.StatusCode, err)
	}
	st.Body.Close()
}

// GET /v1/envs: every environment with a deployment, by name, with what
// serves it now; a rolled-back deployment is the latest but not current.
func TestOverview(t *testing.T) {
	ctx := context.Background()
	r, srv := apiRig(t, rollingYAML+strings.Replace(rollingYAML, "environments:\n  staging:", "  qa:", 1))
	r.deploy(ctx, "staging", "v1.0.0", store.DeploySucceeded)
	r.deploy(ctx, "qa", "v1.0.0", store.DeploySucceeded)
	r.target.broken["v1.1.0"] = true
	r.deploy(ctx, "staging", "v1.1.0", store.DeployRolledBack)
	resp, err := http.Get(srv.URL + "/v1/envs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []*Status
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/envs: %d %v", resp.StatusCode, err)
	}
	var lines []string
	for _, st := range got {
		lines = append(lines, fmt.Sprintf("%s: latest %s %s, current %s", st.Env, st.Deployment.Version, st.Deployment.State, st.Current.Version))
	}
	want := []string{"qa: latest v1.0.0 succeeded, current v1.0.0", "staging: latest v1.1.0 rolled-back, current v1.0.0"}
	if !slices.Equal(lines, want) {
		t.Errorf("overview:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
