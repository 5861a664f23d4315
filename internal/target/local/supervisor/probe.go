package supervisor

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"
)

// probeClient never reuses connections: a probe must see a fresh accept.
var probeClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// probeOnce GETs http://127.0.0.1:port<path>; 2xx and 3xx pass.
func probeOnce(ctx context.Context, port int, p Probe) bool {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+p.Path, nil)
	if err != nil {
		return false
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// runProbe probes every Interval after InitialDelay until ctx ends and calls
// report with whether the FailureThreshold was reached (false) or the last
// probe passed (true), only when that verdict changes.
func runProbe(ctx context.Context, port int, p Probe, report func(ok bool)) {
	if !sleepCtx(ctx, p.InitialDelay) {
		return
	}
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	fails, verdict := 0, -1 // -1: no verdict yet
	for {
		ok := probeOnce(ctx, port, p)
		if ctx.Err() != nil {
			return
		}
		switch {
		case ok:
			fails = 0
			if verdict != 1 {
				verdict = 1
				report(true)
			}
		default:
			fails++
			if fails >= p.FailureThreshold && verdict != 0 {
				verdict = 0
				report(false)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sleepCtx waits d or until ctx ends; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
