package localapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// routes puts the built-in routes beside the owner's handler and guards
// everything, unknown paths included, with the token.
func (s *Server) routes(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, s.info)
	})
	mux.HandleFunc("POST /v1/shutdown", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusAccepted, map[string]string{"status": "shutting down"})
		s.requestShutdown()
	})
	next := s.opts.Handler
	if next == nil {
		next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, http.StatusNotFound, errors.New("no route for "+r.Method+" "+r.URL.Path))
		})
	}
	mux.Handle("/", next)
	return requireToken(token, s.opts.Logf, mux)
}

// requireToken admits only requests carrying "Authorization: Bearer <token>"
// (scheme case-insensitive, token compared in constant time).
func requireToken(token string, logf func(string, ...any), next http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			logf("local api: denied %s %s from %s", r.Method, r.URL.Path, r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="slipway"`)
			WriteError(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token (see <state-dir>/up/token)"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

// WriteError writes {"error": err.Error()} with the given status; the
// client turns it into an *APIError.
func WriteError(w http.ResponseWriter, status int, err error) {
	WriteJSON(w, status, errorBody{Error: err.Error()})
}

type errorBody struct {
	Error string `json:"error"`
}

// LineWriter streams newline-delimited JSON to a client (read with
// Client.Stream), flushing after every value.
type LineWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	e  *json.Encoder
}

// NewLineWriter starts a 200 application/x-ndjson response on w.
func NewLineWriter(w http.ResponseWriter) *LineWriter {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	return &LineWriter{w: w, rc: http.NewResponseController(w), e: json.NewEncoder(w)}
}

// Write sends v as one line and flushes it; an error means the client is gone.
func (lw *LineWriter) Write(v any) error {
	if err := lw.e.Encode(v); err != nil {
		return err
	}
	return lw.rc.Flush()
}
