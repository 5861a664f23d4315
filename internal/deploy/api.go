package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/internal/release"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
)

// Call is what a client sends to start or roll back a deployment: where
// the project is (the server loads its pipeline and trust policy itself)
// and which artifact.
type Call struct {
	Dir            string `json:"dir"`            // the repository (or a directory in it)
	File           string `json:"file,omitempty"` // the pipeline file, if not the default
	Env            string `json:"environment"`
	Artifact       string `json:"artifact,omitempty"` // repo@sha256:..., repo:tag, or a tag of the environment's service
	AllowDowngrade bool   `json:"allow_downgrade,omitempty"`
	Actor          string `json:"actor"`
	Reason         string `json:"reason,omitempty"`
}

// Resolver turns a Call into a Request: it loads the project and resolves
// the artifact to a digest and its version.
type Resolver func(ctx context.Context, call Call) (Request, error)

// Status is an environment's deployment state as `slipway deploy status`
// shows it.
type Status struct {
	Env          string               `json:"environment"`
	Current      *store.Deployment    `json:"current,omitempty"` // serving now (last success)
	Deployment   *store.Deployment    `json:"deployment,omitempty"`
	Measurements []*store.Measurement `json:"measurements,omitempty"`
	Target       *target.Status       `json:"target,omitempty"`
}

// Status reports env: its latest deployment, its measurements, what runs.
func (c *Controller) Status(ctx context.Context, env string) (*Status, error) {
	ds, err := c.o.Store.List(ctx, store.DeploymentFilter{Env: env, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("%w: %s has never been deployed", ErrNoDeployment, env)
	}
	st := &Status{Env: env, Deployment: ds[0]}
	if st.Current, err = c.current(ctx, env); err != nil {
		return nil, err
	}
	if st.Measurements, err = c.o.Store.Measurements(ctx, ds[0].ID); err != nil {
		return nil, err
	}
	if ts, err := c.o.Target.Status(ctx, ds[0].Service, env); err == nil {
		st.Target = &ts
	}
	return st, nil
}

// Overview is every environment that has had a deployment, by name: its
// latest deployment, what serves it now and where (no measurements).
func (c *Controller) Overview(ctx context.Context) ([]*Status, error) {
	ds, err := c.o.Store.List(ctx, store.DeploymentFilter{}) // newest first
	if err != nil {
		return nil, err
	}
	byEnv := map[string]*Status{}
	var out []*Status
	for _, d := range ds {
		st := byEnv[d.Env]
		if st == nil {
			st = &Status{Env: d.Env, Deployment: d}
			byEnv[d.Env] = st
			out = append(out, st)
			if ts, err := c.o.Target.Status(ctx, d.Service, d.Env); err == nil {
				st.Target = &ts
			}
		}
		if st.Current == nil && d.State == store.DeploySucceeded {
			st.Current = d
		}
	}
	slices.SortFunc(out, func(a, b *Status) int { return strings.Compare(a.Env, b.Env) })
	return out, nil
}

// History lists env's deployments, newest first.
func (c *Controller) History(ctx context.Context, env string, limit int) ([]*store.Deployment, error) {
	return c.o.Store.List(ctx, store.DeploymentFilter{Env: env, Limit: limit})
}

// Handler serves the deployment API of `slipway up` (authentication is the
// caller's): POST /v1/deploy, POST /v1/rollback, POST /v1/envs/{env}/{cmd},
// GET /v1/envs, GET /v1/envs/{env}, GET /v1/envs/{env}/history,
// GET /v1/envs/{env}/logs, GET /v1/deployments/{id}/wait.
func Handler(c *Controller, resolve Resolver) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/deploy", func(w http.ResponseWriter, r *http.Request) {
		call, req, ok := decodeCall(w, r, resolve)
		if !ok {
			return
		}
		req.AllowDowngrade, req.Reason = call.AllowDowngrade, call.Reason
		res, err := c.Start(r.Context(), req)
		reply(w, res, err)
	})
	mux.HandleFunc("POST /v1/rollback", func(w http.ResponseWriter, r *http.Request) {
		_, req, ok := decodeCall(w, r, resolve)
		if !ok {
			return
		}
		res, err := c.Rollback(r.Context(), req)
		reply(w, res, err)
	})
	cmds := map[string]func(context.Context, string, string) (*store.Deployment, error){
		"approve": c.Approve, "pause": c.Pause, "resume": c.Resume, "finish": c.Finish, "abort": c.Abort}
	mux.HandleFunc("POST /v1/envs/{env}/{cmd}", func(w http.ResponseWriter, r *http.Request) {
		cmd, ok := cmds[r.PathValue("cmd")]
		if !ok {
			writeErr(w, http.StatusNotFound, "unknown command "+r.PathValue("cmd"))
			return
		}
		var call Call
		if err := json.NewDecoder(r.Body).Decode(&call); err != nil {
			writeErr(w, http.StatusBadRequest, "request body: "+err.Error())
			return
		}
		d, err := cmd(r.Context(), r.PathValue("env"), call.Actor)
		reply(w, d, err)
	})
	mux.HandleFunc("GET /v1/envs", func(w http.ResponseWriter, r *http.Request) {
		sts, err := c.Overview(r.Context())
		reply(w, sts, err)
	})
	mux.HandleFunc("GET /v1/envs/{env}", func(w http.ResponseWriter, r *http.Request) {
		st, err := c.Status(r.Context(), r.PathValue("env"))
		reply(w, st, err)
	})
	mux.HandleFunc("GET /v1/envs/{env}/history", func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		ds, err := c.History(r.Context(), r.PathValue("env"), limit)
		reply(w, ds, err)
	})
	mux.HandleFunc("GET /v1/deployments/{id}/wait", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "bad deployment id")
			return
		}
		stream(w, r, c, id)
	})
	mux.HandleFunc("GET /v1/envs/{env}/logs", func(w http.ResponseWriter, r *http.Request) { serveLogs(w, r, c) })
	return mux
}

func decodeCall(w http.ResponseWriter, r *http.Request, resolve Resolver) (Call, Request, bool) {
	var call Call
	if err := json.NewDecoder(r.Body).Decode(&call); err != nil {
		writeErr(w, http.StatusBadRequest, "request body: "+err.Error())
		return call, Request{}, false
	}
	req, err := resolve(r.Context(), call)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return call, req, false
	}
	return call, req, true
}

// stream writes the deployment as one JSON line per change until it ends.
func stream(w http.ResponseWriter, r *http.Request, c *Controller, id int64) {
	send := ndjson(w)
	_, err := c.Wait(r.Context(), id, func(d *store.Deployment) {
		send(d) //nolint:errcheck // the client went away; Wait ends with its context
	})
	if err != nil && r.Context().Err() == nil {
		send(map[string]string{"error": err.Error()}) //nolint:errcheck
	}
}

// ndjson starts a newline-delimited JSON answer; send writes one value and
// flushes it, so the client sees it at once.
func ndjson(w http.ResponseWriter) (send func(v any) error) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	return func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}
}

func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // nothing left to tell the client
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg}) //nolint:errcheck
}

// statusOf maps the controller's errors to HTTP statuses, here at the edge.
func statusOf(err error) int {
	switch {
	case errors.Is(err, store.ErrBusy), errors.Is(err, ErrDowngrade), errors.Is(err, ErrIllegal),
		errors.Is(err, store.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, release.ErrRefused):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrNoDeployment), errors.Is(err, store.ErrNotFound), errors.Is(err, target.ErrUnknownSlot),
		errors.Is(err, ErrNoLogs):
		return http.StatusNotFound
	case errors.Is(err, ErrNotDeployable), errors.Is(err, ErrBadCall):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// ErrBadCall is wrapped by resolvers for a call that names nothing valid.
var ErrBadCall = errors.New("bad request")

// waitPoll is how often Wait re-reads a deployment.
const waitPoll = 50 * time.Millisecond
