// Package testtool finds the external programs that integration tests talk
// to (cosign, crane, oras, node, bwrap...) the same way in every package:
// $SLIPWAY_TOOL_<NAME>, then the tools cache that scripts/go-tool.sh fills,
// then $PATH. A missing tool skips the test, unless SLIPWAY_TEST_REQUIRE
// (comma-separated, as `make test` sets it) names it: then the test fails,
// so CI cannot pass by skipping. Only tests import this package.
package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Find returns the path of tool name, or skips (or fails) tb. version
// selects the tools-cache entry (name-version/name); "" skips the cache.
func Find(tb testing.TB, name, version string) string {
	tb.Helper()
	if p := os.Getenv("SLIPWAY_TOOL_" + strings.ToUpper(name)); p != "" {
		return p
	}
	if version != "" {
		if p := filepath.Join(CacheDir(), name+"-"+version, name); isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if Required(name) {
		tb.Fatalf("%s is required (SLIPWAY_TEST_REQUIRE) but was not found; set SLIPWAY_TOOL_%s or run scripts/test-deps.sh", name, strings.ToUpper(name))
	}
	tb.Skipf("%s not found (set SLIPWAY_TOOL_%s or run scripts/test-deps.sh)", name, strings.ToUpper(name))
	return ""
}

// Required reports whether SLIPWAY_TEST_REQUIRE names name.
func Required(name string) bool {
	for _, n := range strings.Split(os.Getenv("SLIPWAY_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

// CacheDir is where scripts/go-tool.sh keeps the tools it builds.
func CacheDir() string {
	if d := os.Getenv("SLIPWAY_TOOLS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "slipway-tools")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
