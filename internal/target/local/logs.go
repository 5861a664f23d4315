package local

import (
	"context"

	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/target/local/supervisor"
)

// ReplicaLogs lists the log file of every replica the slot runs, by
// version in the slot's order. A replica's file holds its stdout and
// stderr, restarts included.
func (t *Target) ReplicaLogs(ctx context.Context, service, env string) ([]target.ReplicaLog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := t.lookup(service, env, false)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	f, sup := s.file, s.sup
	s.mu.Unlock()
	var out []target.ReplicaLog
	for _, v := range f.Versions {
		var recs []supervisor.Record
		if sup != nil {
			for _, r := range sup.Replicas(v.Name) {
				recs = append(recs, r.Record)
			}
		} else { // not adopted yet: what the slot file recorded
			for _, r := range f.Replicas {
				if r.Version == v.Name {
					recs = append(recs, r)
				}
			}
		}
		for _, r := range recs {
			out = append(out, target.ReplicaLog{Version: v.Name, Replica: r.ID, Path: r.LogPath})
		}
	}
	return out, nil
}
