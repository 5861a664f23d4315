package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigFile checks that the configuration file is read: named with
// --config or SLIPWAY_CONFIG, or found under XDG_CONFIG_HOME.
func TestConfigFile(t *testing.T) {
	tests := []struct {
		name string
		bug  string
		// setup writes a bad config file and returns the global flags
		// pointing at it.
		setup func(tb testing.TB, s *sandbox, bad string) []string
	}{
		{"--config", "", func(tb testing.TB, s *sandbox, bad string) []string {
			writeFile(tb, filepath.Join(s.home, "c.yaml"), bad)
			return []string{"--config", filepath.Join(s.home, "c.yaml")}
		}},
		{"SLIPWAY_CONFIG", "", func(tb testing.TB, s *sandbox, bad string) []string {
			writeFile(tb, filepath.Join(s.home, "c.yaml"), bad)
			s.extra = append(s.extra, "SLIPWAY_CONFIG="+filepath.Join(s.home, "c.yaml"))
			return nil
		}},
		{"XDG_CONFIG_HOME", "bug: config.Load finds its default file with os.Getenv(\"XDG_CONFIG_HOME\") " +
			"(config.DefaultFile), not with the environ given to cli.Run, so this file is never read",
			func(tb testing.TB, s *sandbox, bad string) []string {
				writeFile(tb, filepath.Join(s.config, "slipway", "config.yaml"), bad)
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			args := append(tt.setup(t, s, "parallel: 0\n"), "runs")
			r := s.run(t, args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, "parallel must be between 1 and 1024") {
				t.Errorf("exit code %d, stderr %q; want %d and the config file's error", r.code, r.stderr, ExitUsage)
			}
		})
	}
}
