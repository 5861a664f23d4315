package change

import (
	"os"
	"testing"
)

// TestMain keeps Detect away from the machine's git configuration and from
// any repository around the temporary directory, so fixtures decide alone.
func TestMain(m *testing.M) {
	os.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	os.Setenv("GIT_CEILING_DIRECTORIES", os.TempDir())
	os.Exit(m.Run())
}
