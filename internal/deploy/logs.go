package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/internal/secrets"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
)

// ErrNoLogs is returned by OpenLogs when the deploy target keeps no
// replica output that slipway can read.
var ErrNoLogs = errors.New("this deploy target keeps no replica logs slipway can read")

// replicaLogs is what OpenLogs needs of a target: where its replicas write.
type replicaLogs interface {
	ReplicaLogs(ctx context.Context, service, env string) ([]target.ReplicaLog, error)
}

// LogsRequest asks for an environment's replica output.
type LogsRequest struct {
	Env     string
	Version string // "" = every version the environment runs
	Tail    int    // lines per replica to start with; 0 = none
	Follow  bool   // then what they write next, until ctx ends
}

// LogLine is one line a replica wrote, secrets masked.
type LogLine struct {
	Version string `json:"version"`
	Replica string `json:"replica"`
	Line    string `json:"line"`
}

// Logs reads the replica logs OpenLogs found.
type Logs struct {
	req    LogsRequest
	files  []*tailer
	masker *secrets.Masker
}

// maxLogLine bounds one line as sent; the rest is cut.
const maxLogLine = 256 << 10

// followPoll is how often a followed log is checked for more.
const followPoll = 250 * time.Millisecond

// OpenLogs finds the replicas of req.Env (of req.Version, when set). The
// values of the environment's secrets are masked in every line.
func (c *Controller) OpenLogs(ctx context.Context, req LogsRequest) (*Logs, error) {
	lr, ok := c.o.Target.(replicaLogs)
	if !ok {
		return nil, ErrNoLogs
	}
	ds, err := c.o.Store.List(ctx, store.DeploymentFilter{Env: req.Env, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("%w: %s has never been deployed", ErrNoDeployment, req.Env)
	}
	rls, err := lr.ReplicaLogs(ctx, ds[0].Service, req.Env)
	if err != nil {
		return nil, err
	}
	l := &Logs{req: req, masker: c.secretMasker(ds[0])}
	for _, rl := range rls {
		if req.Version == "" || rl.Version == req.Version {
			l.files = append(l.files, &tailer{ReplicaLog: rl})
		}
	}
	if len(l.files) == 0 && req.Version != "" {
		return nil, fmt.Errorf("%w: %s runs no replica of %s", ErrNoDeployment, req.Env, req.Version)
	}
	return l, nil
}

// secretMasker masks the values of the secrets d's environment gives its
// replicas (resolved now: they are never recorded).
func (c *Controller) secretMasker(d *store.Deployment) *secrets.Masker {
	vals := map[string]string{}
	if env, err := specOf(d); err == nil {
		for _, name := range env.Deploy.Secrets {
			if v, ok := c.o.Secret(name); ok {
				vals[name] = v
			}
		}
	}
	return secrets.NewMasker(vals)
}

// Send sends the last Tail lines of each replica, then, with Follow, every
// line they write until ctx ends.
func (l *Logs) Send(ctx context.Context, send func(LogLine) error) error {
	for _, f := range l.files {
		lines, err := f.tail(l.req.Tail)
		if err != nil {
			return err
		}
		if err := l.sendAll(f, lines, send); err != nil {
			return err
		}
	}
	if !l.req.Follow {
		return nil
	}
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for _, f := range l.files {
			lines, err := f.more()
			if err != nil {
				return err
			}
			if err := l.sendAll(f, lines, send); err != nil {
				return err
			}
		}
	}
}

// sendAll masks lines as one block, so a secret spanning lines is masked
// too, and sends them.
func (l *Logs) sendAll(f *tailer, lines []string, send func(LogLine) error) error {
	for _, line := range l.mask(lines) {
		if len(line) > maxLogLine { // a stream line has a bound; JSON may double a line's size
			line = line[:maxLogLine] + " [truncated]"
		}
		if err := send(LogLine{Version: f.Version, Replica: f.Replica, Line: line}); err != nil {
			return err
		}
	}
	return nil
}

// mask masks lines as one block and splits them again.
func (l *Logs) mask(lines []string) []string {
	if len(lines) == 0 || l.masker.Empty() {
		return lines
	}
	return strings.Split(l.masker.MaskString(strings.Join(lines, "\n")), "\n")
}

// serveLogs answers GET /v1/envs/{env}/logs?version=&tail=&follow=1 with
// one LogLine per JSON line; tail defaults to 100.
func serveLogs(w http.ResponseWriter, r *http.Request, c *Controller) {
	q := r.URL.Query()
	req := LogsRequest{Env: r.PathValue("env"), Version: q.Get("version"), Tail: 100, Follow: q.Get("follow") == "1"}
	if s := q.Get("tail"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeErr(w, http.StatusBadRequest, "tail: want a number of lines, not "+strconv.Quote(s))
			return
		}
		req.Tail = n
	}
	l, err := c.OpenLogs(r.Context(), req)
	if err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	send := ndjson(w)
	err = l.Send(r.Context(), func(line LogLine) error { return send(line) })
	if err != nil && r.Context().Err() == nil {
		send(map[string]string{"error": err.Error()}) //nolint:errcheck // the stream's last word
	}
}
