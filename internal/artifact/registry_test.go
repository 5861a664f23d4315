package artifact

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/slipway-ci/slipway/internal/testtool"

	"github.com/google/go-containerregistry/pkg/name"
)

// newRegistry starts a real distribution registry and returns its host:port.
func newRegistry(t testing.TB) string { return testtool.StartRegistry(t).Host }

// counter records the requests a client sends, as "METHOD path?query".
type counter struct {
	mu   sync.Mutex
	reqs []string
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	c.reqs = append(c.reqs, line)
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *counter) reset() {
	c.mu.Lock()
	c.reqs = nil
	c.mu.Unlock()
}

// count returns the requests with method whose path contains part.
func (c *counter) count(method, part string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.reqs {
		if strings.HasPrefix(r, method+" ") && strings.Contains(r, part) {
			out = append(out, r)
		}
	}
	return out
}

func testClient(t testing.TB) (*Client, *counter) {
	t.Helper()
	cnt := &counter{}
	return NewClient(ClientOptions{Insecure: true, Transport: cnt, UserAgent: "slipway-test"}), cnt
}

func repoRef(t testing.TB, host, repo string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(host+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
