package registry

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// tool finds an external binary: $SLIPWAY_TOOL_<NAME>, the slipway tool
// cache, then $PATH. It skips the test when missing unless
// SLIPWAY_TEST_REQUIRE names the tool.
func tool(tb testing.TB, name, version string) string {
	tb.Helper()
	if p := os.Getenv("SLIPWAY_TOOL_" + strings.ToUpper(name)); p != "" {
		return p
	}
	cache := os.Getenv("SLIPWAY_TOOLS")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "slipway-tools")
	}
	if p := filepath.Join(cache, name+"-"+version, name); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if required(name) {
		tb.Fatalf("%s not found and SLIPWAY_TEST_REQUIRE requires it", name)
	}
	tb.Skipf("%s not found (set SLIPWAY_TOOL_%s or run scripts/go-tool.sh)", name, strings.ToUpper(name))
	return ""
}

func required(name string) bool {
	for _, n := range strings.Split(os.Getenv("SLIPWAY_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
