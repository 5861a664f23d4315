// Package local is the embedded default deploy target: it runs an
// artifact's binary as supervised loopback processes (package supervisor)
// behind one weighted L7 router per service and environment (package
// router), and implements [target.Target] and [target.Sampler].
//
// # State on disk
//
// Everything lives under Options.Dir (created 0700):
//
//	bin/<digest hex>/<entrypoint name>  the extracted binary, written once per digest
//	bin/<digest hex>.json               its arguments and environment from the image config
//	slots/<service>.<env>.json          one per slot (0600, replaced atomically): router
//	                                    address, route, versions and replica records (PIDs)
//	logs/<service>.<env>/<replica>.log  replica output
//
// A slot file is rewritten on every Apply and whenever the supervisor starts
// or stops a replica, so a new Target finds the processes the previous one
// left. Workload.Environ is never written anywhere.
//
// # Lifecycle
//
// [New] loads the slot files; such slots are known (Status answers from the
// file) but dormant: nothing watches their replicas and their router does
// not listen until the first Apply, which adopts the recorded replicas and
// serves the router on the recorded address. See package target for the
// rest of the contract; [Target.Close] leaves every replica running.
// A slot's router address and canary header are fixed when this Target
// first serves it: a later Workload.Listen or CanaryHeader is ignored.
// The router answers [MetricsPath] itself with its Prometheus metrics.
//
// # Concurrency
//
// All methods are safe for concurrent use. Apply and Remove of one slot are
// serialised by a per-slot lock; different slots proceed in parallel.
package local
