package engine

import (
	"context"

	"github.com/slipway-ci/slipway/internal/store"
)

// committer group-commits state writes: whatever queued while the previous
// transaction ran goes into the next one, so a burst of step results costs
// one durable commit, not one each.
type committer struct {
	runs store.Runs
	reqs chan commitReq
	done chan struct{}
	lost error // a failed fire-and-forget write, owned by loop
}

type commitReq struct {
	records []store.Record
	reply   chan error // nil for fire-and-forget writes
}

func newCommitter(runs store.Runs) *committer {
	c := &committer{runs: runs, reqs: make(chan commitReq, 256), done: make(chan struct{})}
	go c.loop()
	return c
}

// Save writes records and returns once they are durable.
func (c *committer) Save(records ...store.Record) error {
	reply := make(chan error, 1)
	c.reqs <- commitReq{records: records, reply: reply}
	return <-reply
}

// SaveAsync queues records; a later Save (or Close) makes them durable, in
// order.
func (c *committer) SaveAsync(records ...store.Record) {
	c.reqs <- commitReq{records: records}
}

// Close flushes queued writes and stops the loop.
func (c *committer) Close() {
	close(c.reqs)
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	for first := range c.reqs {
		batch := []commitReq{first}
	drain:
		for {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		var records []store.Record
		for _, r := range batch {
			records = append(records, r.records...)
		}
		// Writes must land even while the run is being cancelled, so they do
		// not use the run's context.
		err := c.runs.Save(context.Background(), records...)
		if err == nil && c.lost != nil {
			err = c.lost
		}
		replied := false
		for _, r := range batch {
			if r.reply != nil {
				r.reply <- err
				replied = true
			}
		}
		if err != nil && !replied {
			// Nobody waited for these writes: the next waiter hears of it.
			c.lost = err
		} else if replied {
			c.lost = nil
		}
	}
}
