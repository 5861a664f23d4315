package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/artifact"
)

var testCreds = Creds{Username: "slipway", Password: "pw", Admin: "root-token"}

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	manBody = `{"schemaVersion":2}`
)

// newTestPolicy returns a policy in front of a handler that records
// whether it was reached; tag "v1" exists in every repo with digest of
// manBody, "staging" is protected.
func newTestPolicy(tb testing.TB) (*policy, *bool) {
	tb.Helper()
	reached := new(bool)
	p := &policy{
		creds:     testCreds,
		protected: func(tag string) bool { return tag == "staging" },
		tagDigest: func(_ context.Context, _, tag string) (string, error) {
			if tag == "v1" || tag == "sha-abc" {
				return digestLike("sha256:", []byte(manBody)), nil
			}
			return "", nil
		},
		next: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			*reached = true
			w.WriteHeader(http.StatusAccepted)
		}),
	}
	return p, reached
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestPolicy(t *testing.T) {
	user := basic("slipway", "pw")
	admin := basic(AdminUser, "root-token")
	tests := []struct {
		name, method, path, auth, body string
		want                           int
		code                           string // OCI error code when refused
	}{
		{"anonymous pull", "GET", "/v2/app/manifests/latest", "", "", 202, ""},
		{"anonymous head blob", "HEAD", "/v2/app/blobs/" + digestA, "", "", 202, ""},
		{"anonymous catalog", "GET", "/v2/_catalog", "", "", 202, ""},
		{"anonymous upload", "POST", "/v2/app/blobs/uploads/", "", "", 401, "UNAUTHORIZED"},
		{"anonymous manifest put", "PUT", "/v2/app/manifests/latest", "", manBody, 401, "UNAUTHORIZED"},
		{"wrong password", "POST", "/v2/app/blobs/uploads/", basic("slipway", "nope"), "", 401, "UNAUTHORIZED"},
		{"admin user with user password", "POST", "/v2/app/blobs/uploads/", basic(AdminUser, "pw"), "", 401, "UNAUTHORIZED"},
		{"wrong bearer", "POST", "/v2/app/blobs/uploads/", "Bearer pw", "", 401, "UNAUTHORIZED"},
		{"user upload", "POST", "/v2/app/blobs/uploads/", user, "", 202, ""},
		{"user patch", "PATCH", "/v2/app/blobs/uploads/0b5d3f2e-1", user, "x", 202, ""},
		{"user cancel upload", "DELETE", "/v2/app/blobs/uploads/0b5d3f2e-1", user, "", 202, ""},
		{"user manifest put", "PUT", "/v2/team/app/manifests/latest", user, manBody, 202, ""},
		{"env tag put by user", "PUT", "/v2/app/manifests/staging", user, manBody, 403, "DENIED"},
		{"env tag delete by user in scratch", "DELETE", "/v2/conformance/x/manifests/staging", user, "", 403, "DENIED"},
		{"env tag put by admin", "PUT", "/v2/app/manifests/staging", admin, manBody, 202, ""},
		{"env tag put by bearer admin", "PUT", "/v2/app/manifests/staging", "Bearer root-token", manBody, 202, ""},
		{"delete manifest outside scratch", "DELETE", "/v2/app/manifests/" + digestA, user, "", 403, "DENIED"},
		{"delete tag outside scratch", "DELETE", "/v2/app/manifests/latest", user, "", 403, "DENIED"},
		{"delete blob outside scratch", "DELETE", "/v2/app/blobs/" + digestA, user, "", 403, "DENIED"},
		{"delete lookalike of scratch", "DELETE", "/v2/conformancex/blobs/" + digestA, user, "", 403, "DENIED"},
		{"delete blob in scratch", "DELETE", "/v2/conformance/repo1/blobs/" + digestA, user, "", 202, ""},
		{"delete manifest in scratch", "DELETE", "/v2/conformance/repo1/manifests/" + digestA, user, "", 202, ""},
		{"admin delete outside scratch", "DELETE", "/v2/app/manifests/" + digestA, admin, "", 202, ""},
		{"immutable same digest", "PUT", "/v2/app/manifests/v1", user, manBody, 202, ""},
		{"immutable other digest", "PUT", "/v2/app/manifests/v1", user, `{"schemaVersion":2,"x":1}`, 403, "DENIED"},
		{"immutable other digest by admin", "PUT", "/v2/app/manifests/sha-abc", admin, `{}`, 403, "DENIED"},
		{"immutable new tag", "PUT", "/v2/app/manifests/v2.0.0", user, `{}`, 202, ""},
		{"mutable tag moves", "PUT", "/v2/app/manifests/latest", user, `{}`, 202, ""},
		{"put by digest", "PUT", "/v2/app/manifests/" + digestA, user, `{}`, 202, ""},
		{"unknown route write", "POST", "/v2/app/unknown", user, "", 202, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, reached := newTestPolicy(t)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.want, rec.Body)
			}
			if *reached != (tt.code == "") {
				t.Fatalf("registry reached = %v, want %v", *reached, tt.code == "")
			}
			if tt.code == "" {
				return
			}
			var body struct {
				Errors []struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("error body %q: %v", rec.Body, err)
			}
			if body.Errors[0].Code != tt.code {
				t.Fatalf("code = %s, want %s", body.Errors[0].Code, tt.code)
			}
			if tt.want == 401 && rec.Header().Get("WWW-Authenticate") != `Basic realm="slipway"` {
				t.Fatalf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestPolicyImmutableMessageNamesTagAndDigest(t *testing.T) {
	p, _ := newTestPolicy(t)
	req := httptest.NewRequest("PUT", "/v2/app/manifests/v1", strings.NewReader("{}"))
	req.Header.Set("Authorization", basic("slipway", "pw"))
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	want := digestLike("sha256:", []byte(manBody))
	if !strings.Contains(rec.Body.String(), `\"v1\"`) || !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("body %s does not name tag v1 and %s", rec.Body, want)
	}
}

func TestPolicyForwardsFullBody(t *testing.T) {
	p, _ := newTestPolicy(t)
	var got string
	p.next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		if r.ContentLength != int64(len(got)) {
			t.Errorf("ContentLength = %d, body %d bytes", r.ContentLength, len(got))
		}
	})
	req := httptest.NewRequest("PUT", "/v2/app/manifests/v9", strings.NewReader(manBody))
	req.Header.Set("Authorization", basic("slipway", "pw"))
	p.ServeHTTP(httptest.NewRecorder(), req)
	if got != manBody {
		t.Fatalf("forwarded body %q, want %q", got, manBody)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		path string
		want route
	}{
		{"/v2/", route{kind: "base"}},
		{"/v2/a/b/manifests/v1.0", route{kind: "manifest", repo: "a/b", ref: "v1.0"}},
		{"/v2/a/manifests/x/manifests/" + digestA, route{kind: "manifest", repo: "a/manifests/x", ref: digestA}},
		{"/v2/a/blobs/" + digestA, route{kind: "blob", repo: "a", ref: digestA}},
		{"/v2/a/blobs/uploads/", route{kind: "blob-upload", repo: "a"}},
		{"/v2/a/blobs/uploads/abc", route{kind: "blob-upload-chunk", repo: "a"}},
		{"/v2/a/tags/list", route{kind: "tags", repo: "a"}},
		{"/v2/Upper/manifests/x", route{}},
		{"/other", route{}},
	}
	for _, tt := range tests {
		got := classify(httptest.NewRequest("GET", tt.path, nil))
		if got != tt.want {
			t.Errorf("classify(%s) = %+v, want %+v", tt.path, got, tt.want)
		}
	}
}

// FuzzPolicy checks that no request path or Authorization header gets an
// anonymous write through, and that nothing panics.
func FuzzPolicy(f *testing.F) {
	f.Add("PUT", "/v2/app/manifests/v1", "")
	f.Add("DELETE", "/v2/conformance/../app/blobs/"+digestA, basic("slipway", "pw"))
	f.Add("POST", "/v2/a/blobs/uploads/?mount="+digestA+"&from=b", "Bearer x")
	f.Add("PATCH", "/v2//a//blobs/uploads/u", "Basic !!!")
	f.Fuzz(func(t *testing.T, method, path, auth string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(method+path, " \r\n\t#") || method == "" {
			return
		}
		req, err := http.NewRequest(method, "http://x"+path, strings.NewReader(manBody))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", auth)
		p, reached := newTestPolicy(t)
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		anonymous := p.authenticate(req) == roleAnonymous
		if isWrite(req.Method) && anonymous && *reached {
			t.Fatalf("anonymous %s %s reached the registry", method, path)
		}
	})
}

func TestImmutableTagMatchesArtifact(t *testing.T) {
	for _, tag := range []string{"v1.2.3", "v0.0.0-rc.1_abc", "v", "voyager", "V1", "sha-abc", "sha256-abc.sig", "staging", "latest", "1.0"} {
		if got, want := immutableTag(tag), artifact.IsImmutableTag(tag); got != want {
			t.Errorf("%q: registry says immutable=%v, the artifact client %v", tag, got, want)
		}
	}
}
