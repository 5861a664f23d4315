package cli

import (
	"bufio"
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/store"
)

// newTestPrinter is a textPrinter writing to buf with no flusher running:
// the test draws the progress line itself, as the flusher would.
func newTestPrinter(buf *bytes.Buffer, tty, quiet bool) *textPrinter {
	return &textPrinter{w: bufio.NewWriter(buf), tty: tty, quiet: quiet, start: time.Now(), done: make(chan struct{})}
}

func (p *textPrinter) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drawStatus()
}

var elapsedRE = regexp.MustCompile(`queued · [0-9.]+(ms|s|m[0-9.]*s)`)

const clear = "\r\033[K"

func steps(names ...string) []*store.Step {
	out := make([]*store.Step, len(names))
	for i, n := range names {
		out[i] = &store.Step{Name: n, Status: store.Queued}
	}
	return out
}

// TestTextPrinterProgress checks that on a terminal the progress line is
// drawn under the logs and cleared before each line printed above it.
func TestTextPrinterProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newTestPrinter(&buf, true, false)
	p.RunStarted(&store.Run{ID: 7, Attempt: 1}, steps("a", "bbb", "c"))
	p.tick() // nothing runs yet
	p.StepStarted("a", 1)
	p.StepStarted("bbb", 1)
	p.tick()
	p.tick() // drawn twice: the second replaces the first
	p.StepLog("a", []byte("hello"))
	p.tick()
	p.StepFinished(&store.Step{Name: "a", Status: store.Success}, 5*time.Millisecond)
	p.Notice("bbb", "slow")
	p.tick()
	p.Close()
	p.Close() // a second Close is harmless
	got := elapsedRE.ReplaceAllString(buf.String(), "queued · T")
	want := "run #7 · 3 steps\n" +
		"● 0/3 done · 0 running · 3 queued · T" +
		clear + "▶ a\n" +
		"▶ bbb\n" +
		"● 0/3 done · 2 running · 1 queued · T" +
		clear + "● 0/3 done · 2 running · 1 queued · T" +
		clear + "a   │ hello\n" +
		"● 0/3 done · 2 running · 1 queued · T" +
		clear + "✔ a 5ms\n" +
		"! bbb: slow\n" +
		"● 1/3 done · 1 running · 1 queued · T" +
		clear
	if got != want {
		t.Errorf("output:\n%q\nwant:\n%q", got, want)
	}
}

// TestTextPrinterSummaryEndsProgress checks that no progress line is drawn
// once the summary is printed, and that Close then writes nothing more.
func TestTextPrinterSummaryEndsProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newTestPrinter(&buf, true, false)
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	run := &store.Run{ID: 3, Attempt: 1, Status: store.Success, StartedAt: start, FinishedAt: start.Add(1500 * time.Millisecond)}
	p.RunStarted(run, steps("a"))
	p.StepStarted("a", 1)
	p.tick()
	p.Summary(&engine.Result{Run: run, Steps: []*store.Step{{Name: "a", Status: store.Success}}}, "/state")
	p.tick()
	p.Close()
	got := elapsedRE.ReplaceAllString(buf.String(), "queued · T")
	want := "run #3 · 1 steps\n▶ a\n● 0/1 done · 1 running · 0 queued · T" + clear + "\n" +
		"run #3 succeeded in 1.5s · 1 success · logs: slipway logs 3\n"
	if got != want {
		t.Errorf("output:\n%q\nwant:\n%q", got, want)
	}
}

// TestTextPrinterNotTTY checks that a pipe or file gets no progress line
// and no escape sequence at all.
func TestTextPrinterNotTTY(t *testing.T) {
	var buf bytes.Buffer
	p := newTestPrinter(&buf, false, false)
	p.RunStarted(&store.Run{ID: 1, Attempt: 1}, steps("a"))
	p.StepStarted("a", 1)
	p.tick()
	p.StepLog("a", []byte("line"))
	p.tick()
	p.Close()
	want := "run #1 · 1 steps\n▶ a\na │ line\n"
	if buf.String() != want {
		t.Errorf("output %q, want %q", buf.String(), want)
	}
}

// TestTextPrinterResumed checks that steps already final when a resumed
// run starts count as done in the progress line.
func TestTextPrinterResumed(t *testing.T) {
	var buf bytes.Buffer
	p := newTestPrinter(&buf, true, false)
	st := steps("a", "b", "c")
	st[0].Status = store.Success
	p.RunStarted(&store.Run{ID: 4, Attempt: 2}, st)
	p.tick()
	p.Close()
	if got := buf.String(); !strings.Contains(got, "· attempt 2\n") || !strings.Contains(got, "1/3 done · 0 running · 2 queued") {
		t.Errorf("output %q: want attempt 2 and 1/3 done", got)
	}
}

func TestRunStartedHeader(t *testing.T) {
	tests := []struct {
		name string
		run  store.Run
		want string
	}{
		{"not git", store.Run{ID: 1, Attempt: 1, BaseRule: change.RuleNoGit, BaseReason: "whatever"},
			"run #1 · 2 steps · not a git checkout: every path filter matches\n"},
		{"commit and branch", store.Run{ID: 2, Attempt: 1, Commit: "0123456789abcdef0123", Branch: "main",
			BaseRule: change.RuleMergeBase, BaseReason: "merge-base with origin/main"},
			"run #2 · 2 steps · 0123456789ab (main) · changes since merge-base with origin/main\n"},
		{"detached, second attempt", store.Run{ID: 3, Attempt: 2, Commit: "abc"},
			"run #3 · 2 steps · attempt 2 · abc\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newTestPrinter(&buf, false, false)
			p.RunStarted(&tt.run, steps("a", "b"))
			p.Close()
			if buf.String() != tt.want {
				t.Errorf("got %q, want %q", buf.String(), tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		step store.Step
		d    time.Duration
		want string
	}{
		{store.Step{Name: "a", Status: store.Success}, 1234 * time.Microsecond, "✔ a 1ms"},
		{store.Step{Name: "a", Status: store.Success, CacheHit: true, Reason: "cached"}, 0, "✔ a (cached)"},
		{store.Step{Name: "a", Status: store.Failure, Reason: "exit code 2"}, time.Second, "✖ a failure: exit code 2 1s"},
		{store.Step{Name: "a", Status: store.FailureAllowed, Reason: "exit code 1"}, 0, "✖ a failure-allowed: exit code 1"},
		{store.Step{Name: "a", Status: store.Skipped, Reason: "no path changed"}, 0, "○ a: no path changed"},
		{store.Step{Name: "a", Status: store.Blocked, Reason: "needs b (failure)"}, 0, "⊘ a blocked: needs b (failure)"},
		{store.Step{Name: "a", Status: store.Cancelled}, 0, "⊘ a cancelled"},
		{store.Step{Name: "a", Status: store.Interrupted}, 0, "⊘ a interrupted"},
	}
	p := &textPrinter{}
	for _, tt := range tests {
		if got := p.describe(&tt.step, tt.d); got != tt.want {
			t.Errorf("describe(%s %s) = %q, want %q", tt.step.Name, tt.step.Status, got, tt.want)
		}
	}
	colored := (&textPrinter{color: true}).describe(&store.Step{Name: "a", Status: store.Failure}, 0)
	if want := red + "✖ a" + reset + " failure"; colored != want {
		t.Errorf("colored = %q, want %q", colored, want)
	}
}

func TestObserverChoice(t *testing.T) {
	tests := []struct {
		name      string
		output    string
		env       []string
		tty       bool
		quiet     bool
		json      bool
		color     bool
		wantLines bool
	}{
		{"json", "json", nil, true, true, true, false, true},
		{"text on a terminal", "text", nil, true, false, false, true, true},
		{"NO_COLOR", "text", []string{"NO_COLOR=1"}, true, false, false, false, true},
		{"pipe", "text", nil, false, false, false, false, true},
		{"quiet", "text", nil, false, true, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf syncBuffer
			g := &globals{output: tt.output, stdout: &buf, getenv: lookup(tt.env)}
			obs := newObserver(g, tt.tty, tt.quiet)
			defer obs.Close()
			if _, isJSON := obs.(*jsonPrinter); isJSON != tt.json {
				t.Fatalf("observer %T, want JSON %v", obs, tt.json)
			}
			if tp, ok := obs.(*textPrinter); ok {
				if tp.color != tt.color {
					t.Errorf("color = %v, want %v", tp.color, tt.color)
				}
				if tp.WantsLines() != tt.wantLines {
					t.Errorf("WantsLines = %v, want %v", tp.WantsLines(), tt.wantLines)
				}
			}
		})
	}
}

// TestFlusherDrawsProgress checks the printer made for a terminal keeps
// its progress line up to date by itself, and clears it on Close.
func TestFlusherDrawsProgress(t *testing.T) {
	var buf syncBuffer
	g := &globals{output: "text", stdout: &buf, getenv: lookup([]string{"NO_COLOR=1"})}
	obs := newObserver(g, true, false)
	obs.RunStarted(&store.Run{ID: 1, Attempt: 1}, steps("a", "b"))
	obs.StepStarted("a", 1)
	ctx, cancel := context.WithTimeout(context.Background(), testLimit)
	defer cancel()
	for !strings.Contains(buf.String(), "0/2 done · 1 running · 1 queued") {
		select {
		case <-ctx.Done():
			obs.Close()
			t.Fatalf("no progress line after %v: %q", testLimit, buf.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	obs.Close()
	out := buf.String()
	if !strings.HasPrefix(out, "run #1 · 2 steps\n▶ a\n") || !strings.HasSuffix(out, clear) {
		t.Errorf("output %q: want the header, the step and a cleared progress line", out)
	}
}
