package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/store"
)

// runPrinter shows a run as it happens and sums it up.
type runPrinter interface {
	engine.Observer
	Summary(res *engine.Result, stateDir string)
	Close()
}

func newObserver(g *globals, tty, quiet bool) runPrinter {
	if g.json() {
		return &jsonPrinter{enc: json.NewEncoder(g.stdout)}
	}
	p := &textPrinter{w: bufio.NewWriterSize(g.stdout, 64<<10), tty: tty, quiet: quiet,
		color: tty && g.getenv("NO_COLOR") == "", start: time.Now(), done: make(chan struct{})}
	go p.flusher()
	return p
}

// textPrinter prints log lines prefixed by their step. On a terminal it
// keeps a progress line (done, running, queued, elapsed) under the logs.
type textPrinter struct {
	mu      sync.Mutex
	w       *bufio.Writer
	tty     bool
	quiet   bool
	color   bool
	width   int
	start   time.Time
	total   int
	ended   int
	running map[string]bool
	status  bool // the progress line is on screen
	done    chan struct{}
	once    sync.Once
}

const (
	reset  = "\033[0m"
	red    = "\033[31m"
	green  = "\033[32m"
	yellow = "\033[33m"
	dim    = "\033[2m"
)

func (p *textPrinter) paint(color, s string) string {
	if !p.color {
		return s
	}
	return color + s + reset
}

func (p *textPrinter) flusher() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.mu.Lock()
			p.drawStatus()
			p.w.Flush() //nolint:errcheck // a closed terminal is not worth failing a run
			p.mu.Unlock()
		}
	}
}

// line writes one line above the progress line.
func (p *textPrinter) line(s string) {
	if p.status {
		p.w.WriteString("\r\033[K")
		p.status = false
	}
	p.w.WriteString(s)
	p.w.WriteByte('\n')
}

func (p *textPrinter) drawStatus() {
	if !p.tty || p.total == 0 {
		return
	}
	if p.status {
		p.w.WriteString("\r\033[K")
	}
	queued := p.total - p.ended - len(p.running)
	fmt.Fprintf(p.w, "%s %d/%d done · %d running · %d queued · %s",
		p.paint(yellow, "●"), p.ended, p.total, len(p.running), queued, time.Since(p.start).Round(100*time.Millisecond))
	p.status = true
}

func (p *textPrinter) RunStarted(r *store.Run, steps []*store.Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.running = len(steps), map[string]bool{}
	for _, s := range steps {
		p.width = max(p.width, min(len(s.Name), 32))
		if s.Status.Final() {
			p.ended++
		}
	}
	what := fmt.Sprintf("run #%d · %d steps", r.ID, len(steps))
	if r.Attempt > 1 {
		what += fmt.Sprintf(" · attempt %d", r.Attempt)
	}
	if r.Commit != "" {
		what += fmt.Sprintf(" · %s", short(r.Commit))
		if r.Branch != "" {
			what += " (" + r.Branch + ")"
		}
	}
	switch {
	case r.BaseRule == change.RuleNoGit:
		what += " · not a git checkout: every path filter matches"
	case r.BaseReason != "":
		what += " · changes since " + r.BaseReason
	}
	p.line(p.paint(dim, what))
}

func (p *textPrinter) StepStarted(step string, attempt int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[step] = true
	msg := "▶ " + step
	if attempt > 1 {
		msg += fmt.Sprintf(" (attempt %d)", attempt)
	}
	p.line(p.paint(dim, msg))
}

// WantsLines is false with --quiet: the engine then skips splitting output.
func (p *textPrinter) WantsLines() bool { return !p.quiet }

func (p *textPrinter) StepLog(step string, text []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line(p.paint(dim, pad(step, p.width)+" │ ") + string(text))
}

func (p *textPrinter) StepFinished(s *store.Step, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, s.Name)
	p.ended++
	p.line(p.describe(s, d))
}

func (p *textPrinter) describe(s *store.Step, d time.Duration) string {
	mark, color := "✔", green
	switch s.Status {
	case store.Failure:
		mark, color = "✖", red
	case store.FailureAllowed:
		mark, color = "✖", yellow
	case store.Skipped:
		mark, color = "○", dim
	case store.Blocked, store.Cancelled, store.Interrupted:
		mark, color = "⊘", yellow
	}
	msg := p.paint(color, mark+" "+s.Name)
	if s.Status != store.Success && s.Status != store.Skipped {
		msg += " " + string(s.Status)
	}
	if s.CacheHit {
		msg += " (cached)"
	}
	if s.Reason != "" && s.Reason != "cached" {
		msg += ": " + s.Reason
	}
	if d > 0 {
		msg += p.paint(dim, " "+d.Round(time.Millisecond).String())
	}
	return msg
}

func (p *textPrinter) Notice(step, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if step != "" {
		msg = step + ": " + msg
	}
	p.line(p.paint(yellow, "! ") + msg)
}

func (p *textPrinter) RunFinished(*store.Run, []*store.Step) {}

func (p *textPrinter) Summary(res *engine.Result, _ string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = 0 // no more progress line
	r := res.Run
	counts := map[store.Status]int{}
	cached := 0
	for _, s := range res.Steps {
		counts[s.Status]++
		if s.CacheHit {
			cached++
		}
	}
	p.line("")
	for _, s := range res.Steps {
		if s.Status != store.Success || s.Reason != "" {
			p.line("  " + p.describe(s, 0))
		}
	}
	for _, q := range res.Quarantined {
		p.line(fmt.Sprintf("  quarantined failure: %s (%s, until %s: %s)", q.Test.ID(), q.Entry.Owner,
			q.Entry.Expires.Format("2006-01-02"), q.Entry.Reason))
	}
	var parts []string
	for _, st := range []store.Status{store.Success, store.Failure, store.FailureAllowed, store.Skipped, store.Blocked, store.Cancelled} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	if cached > 0 {
		parts = append(parts, fmt.Sprintf("%d cached", cached))
	}
	verdict, color := "succeeded", green
	switch r.Status {
	case store.Failure:
		verdict, color = "failed", red
	case store.Cancelled:
		verdict, color = "was cancelled", yellow
	}
	p.line(fmt.Sprintf("%s in %s · %s · logs: slipway logs %d",
		p.paint(color, fmt.Sprintf("run #%d %s", r.ID, verdict)), r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond),
		strings.Join(parts, ", "), r.ID))
}

func (p *textPrinter) Close() {
	p.once.Do(func() {
		close(p.done)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.status {
			p.w.WriteString("\r\033[K")
		}
		p.w.Flush() //nolint:errcheck // see flusher
	})
}

func pad(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return s + strings.Repeat(" ", w-len(s))
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// jsonPrinter writes one JSON object per event (JSON Lines).
type jsonPrinter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (p *jsonPrinter) emit(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.enc.Encode(v) //nolint:errcheck // see textPrinter.flusher
}

type jsonStep struct {
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	ExitCode   int       `json:"exit_code"`
	Attempts   int       `json:"attempts"`
	CacheHit   bool      `json:"cache_hit"`
	CacheKey   string    `json:"cache_key,omitempty"`
	Outputs    string    `json:"outputs,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

func toJSONStep(s *store.Step) jsonStep {
	return jsonStep{s.Name, string(s.Status), s.Reason, s.ExitCode, s.Attempts, s.CacheHit, s.CacheKey, s.Outputs,
		s.StartedAt, s.FinishedAt}
}

func (p *jsonPrinter) RunStarted(r *store.Run, steps []*store.Step) {
	p.emit(map[string]any{"event": "run_started", "run": toJSONRun(r), "steps": len(steps)})
}

func (p *jsonPrinter) StepStarted(step string, attempt int) {
	p.emit(map[string]any{"event": "step_started", "step": step, "attempt": attempt})
}

func (p *jsonPrinter) StepLog(step string, line []byte) {
	p.emit(map[string]any{"event": "log", "step": step, "line": string(line)})
}

func (p *jsonPrinter) StepFinished(s *store.Step, d time.Duration) {
	p.emit(map[string]any{"event": "step_finished", "step": toJSONStep(s), "duration_ms": d.Milliseconds()})
}

func (p *jsonPrinter) Notice(step, msg string) {
	p.emit(map[string]any{"event": "notice", "step": step, "message": msg})
}

func (p *jsonPrinter) RunFinished(r *store.Run, steps []*store.Step) {}

func (p *jsonPrinter) Summary(res *engine.Result, _ string) {
	steps := make([]jsonStep, len(res.Steps))
	for i, s := range res.Steps {
		steps[i] = toJSONStep(s)
	}
	quarantined := []string{}
	for _, q := range res.Quarantined {
		quarantined = append(quarantined, q.Test.ID())
	}
	mismatches := append([]string{}, res.CacheMismatches...)
	p.emit(map[string]any{"event": "run_finished", "run": toJSONRun(res.Run), "steps": steps,
		"cache_mismatches": mismatches, "quarantined": quarantined})
}

func (p *jsonPrinter) Close() {}

type jsonRun struct {
	ID         int64     `json:"id"`
	Status     string    `json:"status"`
	Attempt    int       `json:"attempt"`
	Error      string    `json:"error,omitempty"`
	Dir        string    `json:"dir"`
	Commit     string    `json:"commit,omitempty"`
	Branch     string    `json:"branch,omitempty"`
	Tag        string    `json:"tag,omitempty"`
	Event      string    `json:"event,omitempty"`
	Base       string    `json:"base,omitempty"`
	BaseRule   string    `json:"base_rule,omitempty"`
	BaseReason string    `json:"base_reason,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

func toJSONRun(r *store.Run) jsonRun {
	return jsonRun{r.ID, string(r.Status), r.Attempt, r.Error, r.Dir, r.Commit, r.Branch, r.Tag, r.Event, r.Base,
		r.BaseRule, r.BaseReason, r.CreatedAt, r.StartedAt, r.FinishedAt}
}
