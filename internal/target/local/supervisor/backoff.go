package supervisor

import "time"

// Backoff is the capped exponential delay before restarting a replica.
type Backoff struct {
	// Initial is the delay before the first restart; default 200 ms.
	Initial time.Duration
	// Max caps the delay; default 30 s.
	Max time.Duration
	// Reset: a process that ran at least this long restarts after Initial
	// again; default 1 min.
	Reset time.Duration
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 200 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Reset <= 0 {
		b.Reset = time.Minute
	}
	return b
}

// Delay is the wait before restart number n (1-based) of a failure streak:
// Initial, 2×Initial, 4×Initial... capped at Max.
func (b Backoff) Delay(n int) time.Duration {
	b = b.withDefaults()
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}
