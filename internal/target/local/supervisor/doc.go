// Package supervisor runs an artifact's binary as supervised replica
// processes for the local deploy target.
//
// # What a replica is
//
// A replica is one process of one version of one service, listening on a free
// loopback port handed to it in $PORT. It is started in its own session
// (setsid), so it survives the supervising process; its stdout and stderr are
// appended to one log file per replica. Its identity is a [Record]: ID,
// version, PID, the process start time from /proc/<pid>/stat (field 22, to
// detect PID reuse), port, log path and cgroup directories. Records are what
// the caller persists; [Supervisor.Adopt] re-attaches to them after a restart.
//
// # Lifecycle
//
//   - [New] creates an idle Supervisor. One Supervisor serves one service in one
//     environment (the first Spec binds it); several versions may run at once.
//   - [Supervisor.Start] makes the number of replicas of spec.Version equal to
//     spec.Replicas (starting new ones, or stopping the newest extras
//     gracefully). It returns once processes are spawned; use
//     [Supervisor.WaitReady] to wait for readiness. Calling it again with the
//     same spec is a no-op (idempotent apply). A version's spec is fixed once its
//     first replica runs: changing probes or binary means a new version.
//   - [Supervisor.Adopt] takes the records persisted by a previous Supervisor
//     (possibly in a previous process) and monitors them again; a record whose
//     process is gone, or whose PID now belongs to another process, is restarted
//     under the same ID, port (if still free) and log file.
//   - [Supervisor.Stop] / [Supervisor.StopAll] stop replicas gracefully: SIGTERM
//     to the replica's process group, up to Spec.GracePeriod, then SIGKILL; the
//     replica's cgroups are removed.
//   - [Supervisor.Close] stops the Supervisor's goroutines WITHOUT touching the
//     replicas, so they keep serving while `slipway up` restarts. After Close,
//     every method except Replicas and Records returns [ErrClosed].
//
// Each replica is watched by one goroutine that polls the process (wait4 with
// WNOHANG for our own children, /proc start time for adopted ones: adopted
// processes are not our children and cannot be waited for), runs the readiness
// and liveness probes, and restarts the process with capped exponential
// back-off when it exits or fails liveness FailureThreshold times in a row.
// As in Kubernetes, liveness failures count from Liveness.InitialDelay on, so
// that delay must cover the binary's start-up.
//
// # Concurrency
//
// All methods are safe for concurrent use. Blocking methods take a ctx and
// return its error when it ends first; a Stop whose ctx ends during the grace
// period kills the process group with SIGKILL before returning (a stop is never
// left half done). Config.OnEvent is called from the replica goroutines, one
// call at a time and in order; it must return quickly and may call Replicas or
// Records, but not Start, Stop, StopAll, Adopt or Close.
//
// # Resource limits
//
// Memory and CPU limits use cgroups. cgroup v1 (memory and cpu controllers) is
// required and tested: each replica gets <hierarchy>/<parent>/<replica ID> with
// memory.limit_in_bytes (and memory.memsw.limit_in_bytes when present, so swap
// cannot hide the limit), cpu.cfs_period_us and cpu.cfs_quota_us. The default
// parent is "slipway" under the supervising process's own cgroup, so replicas
// stay accounted where the supervisor is; replica groups are removed on
// stop, the empty parent stays. cgroup v2 (memory.max, cpu.max) is
// used best-effort when a v1 controller is missing; it is not tested here.
// A process is moved into its cgroups BEFORE it runs the binary: it is started
// through a tiny /bin/sh wrapper that writes its own PID into cgroup.procs and
// then execs the binary (same PID, same start time), so there is no window in
// which the binary runs unlimited. Only the shell's few instructions run outside.
// When limits are asked for and no writable controller exists, Start fails with
// [ErrCgroupsUnavailable]; without limits no cgroup is touched.
package supervisor
