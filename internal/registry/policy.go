package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"

	v2 "github.com/distribution/distribution/v3/registry/api/v2"
	"github.com/gorilla/mux"
)

// maxManifestSize matches distribution's own limit on a manifest PUT body.
const maxManifestSize = 4 << 20

// scratchNamespace is where normal credentials may delete (the conformance
// suite and other throwaway content live there).
const scratchNamespace = "conformance"

// role is what a request's credentials allow.
type role int

const (
	roleAnonymous role = iota
	roleUser
	roleAdmin
)

// policy guards distribution's handler: anonymous reads, authenticated
// writes, immutable release tags, admin-only environment tags and deletes
// outside the scratch namespace.
type policy struct {
	creds     Creds
	protected func(tag string) bool
	// tagDigest returns the digest a tag points to in repo, "" if none.
	tagDigest func(ctx context.Context, repo, tag string) (string, error)
	next      http.Handler

	// immutableMu serialises check-then-put on immutable tags.
	immutableMu sync.Mutex
}

// route is the part of a request the policy decides on.
type route struct {
	kind string // one of v2.RouteName*, "" when unmatched
	repo string
	ref  string // manifest reference (tag or digest) or blob digest
}

// classify maps a request onto distribution's own routes, so the policy
// sees exactly what the registry will serve.
func classify(r *http.Request) route {
	var m mux.RouteMatch
	if !v2.Router().Match(r, &m) || m.Route == nil {
		return route{}
	}
	rt := route{kind: m.Route.GetName(), repo: m.Vars["name"]}
	switch rt.kind {
	case v2.RouteNameManifest:
		rt.ref = m.Vars["reference"]
	case v2.RouteNameBlob:
		rt.ref = m.Vars["digest"]
	}
	return rt
}

// isTagRef tells a tag from a digest reference.
func isTagRef(ref string) bool { return ref != "" && !strings.Contains(ref, ":") }

// immutableTag reports tags that, once pushed, never move: releases (v*)
// and commits (sha-*).
func immutableTag(tag string) bool {
	// Same rule as artifact.IsImmutableTag: "v" then a digit, so a tag
	// such as "voyager" stays movable.
	return len(tag) > 1 && tag[0] == 'v' && tag[1] >= '0' && tag[1] <= '9' || strings.HasPrefix(tag, "sha-")
}

func inScratch(repo string) bool {
	return repo == scratchNamespace || strings.HasPrefix(repo, scratchNamespace+"/")
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// authenticate returns the role of the request's credentials; missing or
// wrong credentials are anonymous.
func (p *policy) authenticate(r *http.Request) role {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		if equal(strings.TrimSpace(tok), p.creds.Admin) {
			return roleAdmin
		}
		return roleAnonymous
	}
	user, pass, ok := r.BasicAuth()
	switch {
	case !ok:
		return roleAnonymous
	case equal(user, AdminUser) && equal(pass, p.creds.Admin):
		return roleAdmin
	case equal(user, p.creds.Username) && equal(pass, p.creds.Password):
		return roleUser
	}
	return roleAnonymous
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// ServeHTTP implements http.Handler.
func (p *policy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isWrite(r.Method) {
		p.next.ServeHTTP(w, r)
		return
	}
	who := p.authenticate(r)
	if who == roleAnonymous {
		w.Header().Set("WWW-Authenticate", `Basic realm="slipway"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required to write to this registry")
		return
	}
	rt := classify(r)
	if msg := p.deny(r.Method, rt, who); msg != "" {
		writeError(w, http.StatusForbidden, "DENIED", msg)
		return
	}
	if r.Method == http.MethodPut && rt.kind == v2.RouteNameManifest && isTagRef(rt.ref) && immutableTag(rt.ref) {
		p.putImmutable(w, r, rt)
		return
	}
	p.next.ServeHTTP(w, r)
}

// deny returns why an authenticated write is refused, "" when allowed.
func (p *policy) deny(method string, rt route, who role) string {
	if who == roleAdmin {
		return ""
	}
	if rt.kind == v2.RouteNameManifest && isTagRef(rt.ref) && p.protected(rt.ref) {
		return fmt.Sprintf("tag %q is a protected environment tag: only Slipway's admin credential may move or delete it", rt.ref)
	}
	if method == http.MethodDelete && (rt.kind == v2.RouteNameManifest || rt.kind == v2.RouteNameBlob) && !inScratch(rt.repo) {
		return fmt.Sprintf("deleting %s@%s is reserved to Slipway's admin credential outside %s/", rt.repo, rt.ref, scratchNamespace)
	}
	return ""
}

// putImmutable lets a manifest PUT to an immutable tag through only when
// the tag is new or already points at the same content.
func (p *policy) putImmutable(w http.ResponseWriter, r *http.Request, rt route) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManifestSize+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "MANIFEST_INVALID", "reading manifest: "+err.Error())
		return
	}
	if len(body) > maxManifestSize {
		writeError(w, http.StatusRequestEntityTooLarge, "SIZE_INVALID", "manifest exceeds 4 MiB")
		return
	}
	p.immutableMu.Lock()
	defer p.immutableMu.Unlock()
	existing, err := p.tagDigest(r.Context(), rt.repo, rt.ref)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "UNKNOWN", "looking up tag: "+err.Error())
		return
	}
	if existing != "" && existing != digestLike(existing, body) {
		writeError(w, http.StatusForbidden, "DENIED",
			fmt.Sprintf("tag %q is immutable and already points to %s", rt.ref, existing))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	p.next.ServeHTTP(w, r)
}

// digestLike digests body with the algorithm of the digest it is compared to.
func digestLike(existing string, body []byte) string {
	alg, _, _ := strings.Cut(existing, ":")
	var h hash.Hash
	switch alg {
	case "sha512":
		h = sha512.New()
	default:
		alg, h = "sha256", sha256.New()
	}
	h.Write(body)
	return alg + ":" + hex.EncodeToString(h.Sum(nil))
}

// writeError writes an OCI distribution error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	type ociError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	body, _ := json.Marshal(struct {
		Errors []ociError `json:"errors"`
	}{[]ociError{{code, msg}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
