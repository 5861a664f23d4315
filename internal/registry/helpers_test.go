package registry

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// helperEnv makes the test binary act as a registry process (see TestMain),
// so lock tests can use a second, killable process.
const helperEnv = "SLIPWAY_REGISTRY_TEST_SERVE"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		s, err := Serve(context.Background(), Options{StateDir: dir, Holder: HolderRegistry})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(s.Addr())
		select {} // until killed
	}
	os.Exit(m.Run())
}

// serve starts a registry on a fresh state dir (or the given one) and
// closes it when the test ends.
func serve(tb testing.TB, o Options) *Server {
	tb.Helper()
	if o.StateDir == "" {
		o.StateDir = tb.TempDir()
	}
	s, err := Serve(context.Background(), o)
	if err != nil {
		tb.Fatalf("Serve: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func credsOf(tb testing.TB, stateDir string) Creds {
	tb.Helper()
	c, err := Credentials(stateDir)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// ref parses addr/repo:tag for go-containerregistry.
func ref(tb testing.TB, addr, repoTag string) name.Reference {
	tb.Helper()
	r, err := name.ParseReference(addr+"/"+repoTag, name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func withAuth(user, pass string) remote.Option {
	return remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: user, Password: pass}))
}
