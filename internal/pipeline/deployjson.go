package pipeline

import (
	"encoding/json"
	"fmt"
	"time"
)

// The JSON copy of an environment that a deployment keeps (and
// `slipway deploy status -o json` shows) writes durations as "30s", not
// as nanoseconds. It still reads the numbers that older copies hold.

// durationJSON is a time.Duration in that form.
type durationJSON time.Duration

func (d durationJSON) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *durationJSON) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := time.ParseDuration(s)
		*d = durationJSON(v)
		return err
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration: want a string such as \"30s\" or a number of nanoseconds, got %s", b)
	}
	*d = durationJSON(n)
	return nil
}

// Each struct below embeds its plain self and shadows the duration
// fields: encoding/json prefers the shallower field of one name.

type deployPlain Deploy

type deployJSON struct {
	*deployPlain
	ScaleDownDelay   durationJSON `json:"scaleDownDelay,omitempty"`
	ProgressDeadline durationJSON `json:"progressDeadline,omitempty"`
	Soak             durationJSON `json:"soak,omitempty"`
	StopGrace        durationJSON `json:"stopGrace,omitempty"`
}

func (d Deploy) MarshalJSON() ([]byte, error) {
	p := deployPlain(d)
	return json.Marshal(deployJSON{&p, durationJSON(d.ScaleDownDelay), durationJSON(d.ProgressDeadline),
		durationJSON(d.Soak), durationJSON(d.StopGrace)})
}

func (d *Deploy) UnmarshalJSON(b []byte) error {
	j := deployJSON{(*deployPlain)(d), durationJSON(d.ScaleDownDelay), durationJSON(d.ProgressDeadline),
		durationJSON(d.Soak), durationJSON(d.StopGrace)}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	d.ScaleDownDelay, d.ProgressDeadline = time.Duration(j.ScaleDownDelay), time.Duration(j.ProgressDeadline)
	d.Soak, d.StopGrace = time.Duration(j.Soak), time.Duration(j.StopGrace)
	return nil
}

type probePlain Probe

type probeJSON struct {
	*probePlain
	Interval     durationJSON `json:"interval,omitempty"`
	Timeout      durationJSON `json:"timeout,omitempty"`
	InitialDelay durationJSON `json:"initialDelay,omitempty"`
}

func (p Probe) MarshalJSON() ([]byte, error) {
	q := probePlain(p)
	return json.Marshal(probeJSON{&q, durationJSON(p.Interval), durationJSON(p.Timeout), durationJSON(p.InitialDelay)})
}

func (p *Probe) UnmarshalJSON(b []byte) error {
	j := probeJSON{(*probePlain)(p), durationJSON(p.Interval), durationJSON(p.Timeout), durationJSON(p.InitialDelay)}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	p.Interval, p.Timeout, p.InitialDelay = time.Duration(j.Interval), time.Duration(j.Timeout), time.Duration(j.InitialDelay)
	return nil
}

type stepPlain CanaryStep

type stepJSON struct {
	*stepPlain
	Pause *durationJSON `json:"pause,omitempty"`
}

func (s CanaryStep) MarshalJSON() ([]byte, error) {
	q := stepPlain(s)
	return json.Marshal(stepJSON{&q, (*durationJSON)(s.Pause)})
}

func (s *CanaryStep) UnmarshalJSON(b []byte) error {
	j := stepJSON{stepPlain: (*stepPlain)(s)}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Pause != nil {
		s.Pause = (*time.Duration)(j.Pause)
	}
	return nil
}
