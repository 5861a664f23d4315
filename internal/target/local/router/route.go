package router

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// DefaultCanaryHeader is the request header that forces a version.
const DefaultCanaryHeader = "X-Slipway-Canary"

// weightScale is the resolution of CanaryWeight: parts per million of
// requests, i.e. 0.0001 %.
const weightScale = 1_000_000

// ErrInvalidRoute is returned by SetRoute for a route that cannot be applied.
var ErrInvalidRoute = errors.New("router: invalid route")

// Route says where traffic goes. Stable is required; Canary is optional
// (empty: all traffic to Stable); CanaryWeight is the canary's share of
// traffic in percent, 0..100, fractions allowed. A blue-green deployment
// previews green as Route{Stable: "blue", Canary: "green"} (reachable only
// with the canary header) and switches with Route{Stable: "green"}.
type Route struct {
	Stable       string
	Canary       string
	CanaryWeight float64
}

// validate reports why r cannot be applied.
func (r Route) validate() error {
	switch {
	case r.Stable == "":
		return fmt.Errorf("%w: no stable version", ErrInvalidRoute)
	case r.Canary == r.Stable:
		return fmt.Errorf("%w: canary %q is also the stable version", ErrInvalidRoute, r.Canary)
	case math.IsNaN(r.CanaryWeight) || r.CanaryWeight < 0 || r.CanaryWeight > 100:
		return fmt.Errorf("%w: canary weight %v outside 0..100", ErrInvalidRoute, r.CanaryWeight)
	case r.Canary == "" && r.CanaryWeight != 0:
		return fmt.Errorf("%w: canary weight %v without a canary version", ErrInvalidRoute, r.CanaryWeight)
	}
	return nil
}

// ppm is the canary weight in parts per million.
func (r Route) ppm() uint64 {
	return uint64(math.Round(r.CanaryWeight * (weightScale / 100)))
}

// Override is what a request's canary header asks for.
type Override int

// Override values.
const (
	OverrideNone   Override = iota // no (or an unrecognised) header: route by weight
	OverrideAlways                 // "always": the canary
	OverrideNever                  // "never": the stable version
)

// ParseOverride reads a canary header value: "always" or "never", case and
// surrounding blanks ignored; anything else is OverrideNone, because the
// header comes from untrusted clients and must never fail a request.
func ParseOverride(v string) Override {
	switch v = strings.TrimSpace(v); {
	case strings.EqualFold(v, "always"):
		return OverrideAlways
	case strings.EqualFold(v, "never"):
		return OverrideNever
	}
	return OverrideNone
}

// toCanary reports whether the n-th (1-based) weighted request goes to the
// canary under a weight of ppm parts per million: exactly when the running
// quota floor(n·ppm/1e6) grows at n, so every prefix of N requests holds
// floor(N·ppm/1e6) canary requests, evenly spread.
func toCanary(n, ppm uint64) bool {
	return quota(n, ppm) > quota(n-1, ppm)
}

// quota is floor(n·ppm/1e6) without overflow (128-bit product).
func quota(n, ppm uint64) uint64 {
	hi, lo := bits.Mul64(n, ppm)
	q, _ := bits.Div64(hi, lo, weightScale) // hi < weightScale while n < 2^64
	return q
}
