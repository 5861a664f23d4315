package app

import (
	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/gatekeeper"
	"github.com/slipway-ci/slipway/internal/release"
)

// scanners are the security scanners of this build; images come from the
// artifact registry.
func scanners(vulnSource string, images gatekeeper.ImageSource) []gatekeeper.Scanner {
	return []gatekeeper.Scanner{gatekeeper.SecretsScanner{}, gatekeeper.DepsScanner{Source: vulnSource}, gatekeeper.SASTScanner{},
		gatekeeper.ImageScanner{Images: images, Source: vulnSource}}
}

// Builtins lists the built-in steps (`uses:`) for lint and the schema,
// without opening a state dir.
func Builtins() *action.Registry {
	gk := gatekeeper.New(gatekeeper.Options{Scanners: scanners("", nil)})
	return action.NewRegistry(append(append(release.New(release.Options{}).Actions(), gk.Actions()...), deployAction{})...)
}
