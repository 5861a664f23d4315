// Package local runs steps as processes on the machine slipway runs on: the
// default executor, optionally inside a bubblewrap (bwrap) sandbox.
//
// # Processes
//
// Each job runs in its own session and process group (setsid), with stdin on
// /dev/null and no controlling terminal, so a step can neither read from nor
// inject keystrokes into the terminal slipway was started from. Stdout and
// stderr share one pipe, so Output keeps their relative order. The
// environment is exactly Job.Env (a shell name without a slash is looked up
// in the PATH of Job.Env, not slipway's). Cancellation sends SIGTERM to the
// group and SIGKILL after Job.Grace. When the main process exits, the rest
// of its group is killed at once; a process that left the group (setsid,
// daemons) is not, but once it is the only holder of the output pipe it
// stops being read after one second. Ref records the group leader's start
// time (and the machine's boot id), so Reap never kills a process that
// reused the id.
//
// # Sandbox
//
// With Sandbox.Mode on or strict, the job runs under bwrap, started with an
// empty environment (Job.Env reaches the step through --args on a memfd, so
// values never appear in any /proc/*/cmdline and nothing of slipway's
// environment is visible in the sandbox's /proc/1/environ). The sandbox:
//
//   - mounts the host's / read-only, with a fresh /dev (null, zero, random,
//     tty, pts...), an empty private tmpfs on /dev/shm, and a /proc for its
//     own PID namespace;
//   - bind-mounts each Sandbox.Writable path read-write (each must exist;
//     nothing is created on the host outside them);
//   - covers each existing Sandbox.Hidden path: a directory with an empty
//     tmpfs, anything else with /dev/null. Symlinks are resolved first, so
//     the target is what gets covered. Mounts are applied parents first, so
//     the deepest entry wins: a Hidden path inside a Writable one is hidden,
//     a Writable path inside a Hidden one is writable, and when a path is in
//     both lists it is hidden;
//   - runs in new PID, IPC, UTS and (if the kernel allows) cgroup
//     namespaces, so it sees only its own processes and cannot signal,
//     ptrace or read /proc/<pid>/environ of slipway or of other jobs;
//   - drops every capability and sets no_new_privs, so even as root it
//     cannot mount, unmount what hides a path, remount / writable, load
//     modules, change the clock, ptrace processes of other users, or regain
//     privileges through setuid binaries;
//   - in strict mode also gets its own network namespace with only a
//     loopback interface: no network at all, not even the host's loopback;
//   - dies with slipway (--die-with-parent): if slipway is killed, the whole
//     PID namespace is killed.
//
// The sandbox does NOT:
//
//   - limit CPU, memory, disk, processes or open files (use cgroups or the
//     container executor for that);
//   - hide any file or directory not listed in Hidden: everything else the
//     user slipway runs as can read stays readable (read-only), including
//     /sys and other checkouts;
//   - make /tmp writable: list a private temporary directory in Writable and
//     point TMPDIR at it;
//   - isolate the network unless the mode is strict: the step shares the
//     host's interfaces, loopback services and abstract UNIX sockets;
//   - switch to another user or user namespace: the step keeps slipway's
//     uid, so files it writes in Writable paths belong to that user;
//   - filter system calls (no seccomp): the step may ptrace its own
//     processes and bwrap's reaper (its parent, pid 1 of the namespace),
//     which holds nothing but the job's exit status;
//   - close file descriptors slipway itself inherited without close-on-exec.
//
// Steps with `sandbox: off` run with slipway's full view of the machine and
// can read everything slipway can: the state dir, other jobs' processes and
// their environments, credentials in slipway's HOME.
//
// In the sandbox a step killed by signal N ends with code 128+N, as it would
// under a shell: bwrap's reaper cannot report the signal itself.
package local
