package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzAPI sends arbitrary requests to the deployment API: it must answer
// every one without panicking, and every error as {"error": "..."} JSON
// with a 4xx status (a 5xx would mean bad input reached the controller as
// an internal failure).
func FuzzAPI(f *testing.F) {
	for _, seed := range []struct {
		post       bool
		path, body string
	}{
		{true, "/v1/deploy", `{"environment":"staging","artifact":"hello:v1.0.0","actor":"a"}`},
		{true, "/v1/deploy", `{"environment":"nowhere","artifact":"hello:v1.0.0"}`},
		{true, "/v1/rollback", `{"environment":"staging"}`},
		{true, "/v1/envs/staging/pause", `{"actor":"a"}`},
		{true, "/v1/envs/staging/finish", `{`},
		{false, "/v1/envs/staging", ``},
		{false, "/v1/envs/staging/history?limit=-1", ``},
		{false, "/v1/deployments/1/wait", ``},
		{false, "/v1/deployments/x/wait", ``},
		{false, "/v1/envs", ``},
		{false, "/v1/envs/staging/logs?tail=5&follow=1", ``},
		{false, "/v1/envs/staging/logs?tail=-3&version=v1.0.0", ``},
	} {
		f.Add(seed.post, seed.path, []byte(seed.body))
	}
	r := newRig(f, rollingYAML)
	resolve := func(_ context.Context, c Call) (Request, error) {
		env := r.spec.Environment(c.Env)
		if env == nil {
			return Request{}, ErrBadCall
		}
		v := strings.TrimPrefix(c.Artifact, "hello:")
		return Request{Env: env, Repo: "hello", Digest: digestOf(v), Version: v, Actor: c.Actor}, nil
	}
	h := Handler(r.c, resolve)
	f.Fuzz(func(t *testing.T, post bool, path string, body []byte) {
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, "http://127.0.0.1"+path, bytes.NewReader(body))
		if err != nil || !strings.HasPrefix(req.URL.Path, "/") {
			return
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code < 400 {
			return
		}
		var e struct{ Error string }
		if w.Code >= 500 && ctx.Err() == nil {
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, w.Body)
		}
		if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s: %d with a body that is not an error: %q", method, path, w.Code, w.Body)
			}
		}
	})
}
