// Package router is the built-in L7 traffic router of the local deploy
// target: one [Router] per service and environment, a reverse proxy in front
// of the loopback replicas of (at most) two versions, stable and canary.
//
// # Routing
//
// A [Route] names the stable version, an optional canary version and the
// canary's share of traffic in percent (fractions down to 0.0001 % allowed).
// Weighted routing is deterministic, not random: the n-th weighted request
// since the route was set goes to the canary exactly when
// floor(n·w/100) > floor((n-1)·w/100), so after N requests the canary has
// received floor(N·w/100) of them (5 % is exactly 5 of the first 100, 50 of
// the first 1000, spread evenly). A request whose canary header (default
// [DefaultCanaryHeader]) says "always" goes to the canary, "never" to the
// stable version, without consuming a weighted slot; the header is ignored
// when the route has no canary.
//
// [Router.SetRoute] swaps the whole route in one atomic step: every request
// either sees the old route or the new one, never a mix, which makes it the
// blue-green switch. Requests already in flight are never cut: they finish
// on the version they started on; [Router.Drain] waits for them.
//
// Only ready replicas receive traffic: the caller (the supervisor's readiness
// probes) sets each version's ready addresses with [Router.SetBackends], and
// requests are spread over them round-robin. When the version chosen by
// weight has no ready backend the request falls back to the other version of
// the route, so a crashed canary degrades to stable instead of failing users;
// a version forced by the header does not fall back (a preview must not
// silently answer with stable) and gets 503, as does a request when no
// version of the route has a ready backend.
//
// # Statistics
//
// Per version the router counts requests, 5xx responses (a backend that
// cannot be reached is a 502 and counts as 5xx; a 503 for lack of ready
// backends counts against the version the request was meant for) and a
// latency histogram (time from receiving the request to the end of the
// response). [Router.Snapshot] returns the cumulative figures for the
// analysis package; [Router.MetricsHandler] serves the same data in the
// Prometheus text format from the router's own registry, as
// slipway_router_requests_total{service,env,version,code},
// slipway_router_request_duration_seconds{service,env,version} (histogram),
// slipway_router_in_flight_requests{service,env,version} and
// slipway_router_canary_weight_percent{service,env}.
//
// # Concurrency
//
// Every method of Router is safe for concurrent use. The request path takes
// no router-wide lock: it reads an immutable snapshot of the route and the
// backends through one atomic pointer; writers (SetRoute, SetBackends)
// serialise on a mutex and publish a new snapshot.
package router
