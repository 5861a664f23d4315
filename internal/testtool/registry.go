package testtool

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // StartRegistry stores on disk
	"github.com/sirupsen/logrus"
)

// Registry is a real CNCF distribution registry on 127.0.0.1, storing on
// the filesystem (so tests can damage what it serves), deletion enabled.
type Registry struct {
	Host     string       // host:port, plain HTTP
	Root     string       // the storage directory
	Requests atomic.Int64 // every request served
	Uploads  atomic.Int64 // blob uploads started (POST .../blobs/uploads/)
	srv      *http.Server
}

// StartRegistry serves a Registry until tb ends.
func StartRegistry(tb testing.TB) *Registry {
	tb.Helper()
	os.Setenv("OTEL_TRACES_EXPORTER", "none") //nolint:errcheck // tracing is off in every test
	if !testing.Verbose() {
		logrus.SetOutput(io.Discard) // the registry logs every request; 404s are expected answers
	}
	reg := &Registry{Root: tb.TempDir()}
	cfg := &configuration.Configuration{Version: "0.1", Storage: configuration.Storage{
		"filesystem":  configuration.Parameters{"rootdirectory": reg.Root},
		"delete":      configuration.Parameters{"enabled": true},
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}}
	cfg.HTTP.Secret = "slipway-test-secret"
	cfg.Log.AccessLog.Disabled = true
	app := handlers.NewApp(context.Background(), cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	reg.Host = ln.Addr().String()
	reg.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg.Requests.Add(1)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/") {
			reg.Uploads.Add(1)
		}
		app.ServeHTTP(w, r)
	})}
	go reg.srv.Serve(ln)                               //nolint:errcheck // ends with Close
	tb.Cleanup(func() { reg.Close(); app.Shutdown() }) //nolint:errcheck
	return reg
}

// Close stops serving: the registry is down from then on.
func (r *Registry) Close() { r.srv.Close() } //nolint:errcheck

// BlobPath is where the registry keeps the bytes of blob "sha256:<hex>".
func (r *Registry) BlobPath(digest string) string {
	h := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(r.Root, "docker/registry/v2/blobs/sha256", h[:2], h, "data")
}
