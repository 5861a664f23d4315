package deploy

import (
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/store"
)

// Each strategy, with the real local target, under a loopback load: a new
// version whose replicas run but never pass readiness makes no progress,
// the progress deadline rolls it back, and the users never see it: every
// request is answered by v1 with a 200.
const unreadyYAML = `environments:
  rolling:
    target: local
    replicas: 2
    strategy: rolling
    scale-down-delay: 200ms
    progress-deadline: 2s
    stop-grace: 2s
    probes: {readiness: {path: /healthz, interval: 100ms}}
  bluegreen:
    target: local
    replicas: 2
    strategy: blue-green
    blue-green: {scale-down-delay: 200ms}
    progress-deadline: 2s
    stop-grace: 2s
    probes: {readiness: {path: /healthz, interval: 100ms}}
  canary:
    target: local
    replicas: 2
    strategy: canary
    canary: {steps: [{set-weight: 50}]}
    scale-down-delay: 200ms
    progress-deadline: 2s
    stop-grace: 2s
    probes: {readiness: {path: /healthz, interval: 100ms}}
`

func TestUnreadyVersionRollsBackUnseen(t *testing.T) {
	r := newRealRig(t, unreadyYAML)
	v1 := r.images.Push(t, "v1", "-version", "v1")
	limbo := r.images.Push(t, "v2", "-version", "v2", "-unready")
	for _, env := range []string{"rolling", "bluegreen", "canary"} {
		t.Run(env, func(t *testing.T) {
			r.deploy(env, v1)
			r.settled(env, "v1")
			l := startLoad(r.ctx, r.endpoint(env)+"/")
			d := r.wait(r.start(env, limbo).ID, store.DeployRolledBack)
			r.settled(env, "v1")
			hits := l.finish()
			if !strings.HasPrefix(d.Reason, "progress deadline") {
				t.Errorf("reason = %q, want the progress deadline", d.Reason)
			}
			if len(hits) == 0 {
				t.Fatal("the load sent no request")
			}
			for _, h := range hits {
				if h.version != "v1" || h.code != 200 {
					t.Fatalf("of %d requests, one got %d from %q; want all 200 from v1", len(hits), h.code, h.version)
				}
			}
		})
	}
}
