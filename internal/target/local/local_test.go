package local

import (
	"testing"

	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/target/targettest"
)

// TestLocal shares one registry of hello images between its cases:
// building and pushing them is the slow part.
func TestLocal(t *testing.T) {
	w := newWorld(t)
	t.Run("contract", func(t *testing.T) {
		targettest.Run(t, targettest.Harness{
			Open:     func(tb testing.TB, state string) target.Target { return w.newTarget(tb, state) },
			Versions: func(testing.TB) []target.Version { return w.versions },
			Crashing: func(testing.TB) target.Version { return w.crashing },
			Unready:  func(testing.TB) target.Version { return w.unready },
			Gone:     pidGone,
		})
	})
	for name, test := range map[string]func(*testing.T, *world){
		"digest-mismatch-refused":         digestMismatchRefused,
		"concurrent-applies-extract-once": concurrentAppliesExtractOnce,
		"slot-file-holds-no-environ":      slotFileHoldsIdentitiesNotEnviron,
		"memory-limit-applied":            memoryLimitApplied,
		"listen-address-and-metrics":      listenAddressAndMetrics,
	} {
		t.Run(name, func(t *testing.T) { test(t, w) })
	}
}
