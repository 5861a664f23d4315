package app

import (
	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/gatekeeper"
	"github.com/slipway-ci/slipway/internal/release"
)

// scanners are the security scanners of this build.
func scanners(vulnSource string) []gatekeeper.Scanner {
	return []gatekeeper.Scanner{gatekeeper.SecretsScanner{}, gatekeeper.DepsScanner{Source: vulnSource}, gatekeeper.SASTScanner{}}
}

// Builtins lists the built-in steps (`uses:`) for lint and the schema,
// without opening a state dir.
func Builtins() *action.Registry {
	gk := gatekeeper.New(gatekeeper.Options{Scanners: scanners("")})
	return action.NewRegistry(append(release.New(release.Options{}).Actions(), gk.Actions()...)...)
}
