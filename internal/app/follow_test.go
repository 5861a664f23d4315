package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/localapi"
	"github.com/slipway-ci/slipway/internal/store"
)

// Follow prints a line per change, through a real local API; cancelling
// it ends the following with an error that says the deployment goes on.
func TestFollow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spec := `{"name":"production","deploy":{"strategy":"canary","steps":[{"setWeight":20},{"pause":"3s"}]}}`
	states := []store.Deployment{
		{ID: 7, Env: "production", Version: "v2", Strategy: "canary", State: store.DeployProgressing, Reason: "step deploy"},
		{ID: 7, Env: "production", Version: "v2", Strategy: "canary", State: store.DeployProgressing, Step: 1, Weight: 20, Reason: "step deploy"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/deployments/7/wait", func(w http.ResponseWriter, r *http.Request) {
		lw := localapi.NewLineWriter(w)
		for _, d := range states {
			d.Spec = json.RawMessage(spec)
			if err := lw.Write(d); err != nil {
				return
			}
		}
		<-r.Context().Done() // a pause that outlasts the watcher
	})
	dir := t.TempDir()
	srv, err := localapi.Serve(ctx, localapi.Options{StateDir: dir, Handler: mux})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := localapi.Dial(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	fctx, stop := context.WithCancel(ctx)
	type result struct {
		d   *store.Deployment
		err error
	}
	done := make(chan result, 1)
	go func() {
		d0 := states[0]
		d, err := Follow(fctx, c, &d0, &out)
		done <- result{d, err}
	}()
	waitOutput(t, &out, "pause") // both lines are out: Ctrl-C
	stop()
	res := <-done
	last, err := res.d, res.err
	want := "  progressing       0% on v2, step 1/2, set-weight 20: step deploy\n" +
		"  progressing       20% on v2, step 2/2, pause 3s\n"
	if out.String() != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", out.String(), want)
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "goes on in slipway up") {
		t.Errorf("Follow after cancel: %v, want context.Canceled saying the deployment goes on", err)
	}
	if last.Step != 1 {
		t.Errorf("last state step %d, want 1", last.Step)
	}
}
