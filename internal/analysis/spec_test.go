package analysis

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const goodYAML = `
args:
  - name: team
    value: payments
metrics:
  - name: error-rate
    interval: 1s
    count: 10
    initialDelay: 5
    failureLimit: 1
    consecutiveErrorLimit: 2
    successCondition: result < 0.05
    noData: pass
    provider: {builtin: {metric: error-rate}}
  - name: p99
    dryRun: true
    successCondition: result[0] < 0.3
    provider:
      prometheus:
        address: http://127.0.0.1:9090
        query: histogram_quantile(0.99, rate(x_bucket{version="{{version}}",team="{{team}}"}[1m]))
  - name: biz
    failureCondition: isNaN(result) || result > 3
    provider:
      webhook:
        url: http://127.0.0.1:8080/kpi?v={{version}}
        method: POST
        headers: {Authorization: "Bearer {{arg \"team\"}}"}
        body: '{"service": "{{service}}"}'
        value: response.data.value
        timeout: 2s
`

func TestDecodeTemplate(t *testing.T) {
	tmpl, err := DecodeTemplate([]byte(goodYAML))
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	m := tmpl.Metrics[0]
	if m.Interval.Duration != time.Second || m.InitialDelay.Duration != 5*time.Second || *m.Count != 10 ||
		*m.FailureLimit != 1 || *m.ConsecutiveErrorLimit != 2 || m.NoData != NoDataPass || m.Provider.Builtin.Metric != "error-rate" {
		t.Errorf("decoded %+v", m)
	}
	if tmpl.Metrics[1].EffectiveCount() != 1 || !tmpl.Metrics[1].DryRun {
		t.Errorf("p99: %+v", tmpl.Metrics[1])
	}
	if w := tmpl.Metrics[2].Provider.Webhook; w.Timeout.Duration != 2*time.Second || w.Method != "POST" {
		t.Errorf("webhook: %+v", w)
	}
	// JSON, as the pipeline hands templates over, decodes the same way.
	if _, err := DecodeMetric([]byte(`{"name":"x","interval":"30s","provider":{"builtin":{"metric":"requests"}}}`)); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, in := range []string{
		`{"name":"x","intervall":"1s"}`, // typo: unknown field
		`{"name":"x","interval":"soon"}`,
		`{"name":"x","count":"many"}`,
		`name: [`,
		`{"name":"x"} {"name":"y"}`,
		"name: x\n---\nname: y\n",
		"",
	} {
		if _, err := DecodeMetric([]byte(in)); err == nil {
			t.Errorf("DecodeMetric(%s) succeeded", in)
		}
	}
}

func TestValidateNamesField(t *testing.T) {
	base := func() Metric {
		return Metric{Name: "m", SuccessCondition: "result < 1", Provider: ProviderSpec{Builtin: &BuiltinSpec{Metric: "error-rate"}}}
	}
	prom := &PrometheusSpec{Address: "http://127.0.0.1:9090", Query: "up"}
	cases := []struct {
		field string
		mod   func(*Metric)
	}{
		{"name", func(m *Metric) { m.Name = " " }},
		{"count", func(m *Metric) { m.Count = ip(0) }},
		{"interval", func(m *Metric) { m.Count = ip(3) }},
		{"interval", func(m *Metric) { m.Interval = Duration{-time.Second} }},
		{"failureLimit", func(m *Metric) { m.FailureLimit = ip(-2) }},
		{"inconclusiveLimit", func(m *Metric) { m.InconclusiveLimit = ip(-1) }},
		{"consecutiveErrorLimit", func(m *Metric) { m.ConsecutiveErrorLimit = ip(-1) }},
		{"consecutiveSuccessLimit", func(m *Metric) { m.Interval, m.Count, m.ConsecutiveSuccessLimit = Duration{time.Second}, ip(2), ip(3) }},
		{"noData", func(m *Metric) { m.NoData = "ignore" }},
		{"provider", func(m *Metric) { m.Provider.Prometheus = prom }},
		{"provider", func(m *Metric) { m.Provider.Builtin = nil }},
		{"provider.builtin.metric", func(m *Metric) { m.Provider.Builtin.Metric = "cpu" }},
		{"provider.prometheus.address", func(m *Metric) {
			m.Provider = ProviderSpec{Prometheus: &PrometheusSpec{Address: "127.0.0.1:9090", Query: "up"}}
		}},
		{"provider.prometheus.query", func(m *Metric) {
			m.Provider = ProviderSpec{Prometheus: &PrometheusSpec{Address: "http://p:9090", Query: `x{v="{{versoin}}"}`}}
		}},
		{"provider.webhook.value", func(m *Metric) {
			m.Provider = ProviderSpec{Webhook: &WebhookSpec{URL: "http://h/x", Value: "response."}}
		}},
		{"provider.webhook.method", func(m *Metric) {
			m.Provider = ProviderSpec{Webhook: &WebhookSpec{URL: "http://h/x", Method: "DELETE", Value: "response.v"}}
		}},
		{"provider.webhook.url", func(m *Metric) {
			m.Provider = ProviderSpec{Webhook: &WebhookSpec{URL: "file:///etc/passwd", Value: "response.v"}}
		}},
		{"successCondition", func(m *Metric) { m.SuccessCondition = "result +" }},
		{"successCondition", func(m *Metric) { m.SuccessCondition = "result + 1" }},    // not a bool
		{"successCondition", func(m *Metric) { m.SuccessCondition = "result[0] < 1" }}, // builtin is a scalar
		{"failureCondition", func(m *Metric) { m.FailureCondition = "foo > 1" }},
		{"baseline", func(m *Metric) { m.Baseline = &Baseline{Mode: BaselineRatio} }},
		{"baseline.mode", func(m *Metric) { m.SuccessCondition, m.Baseline = "", &Baseline{Mode: "t-test"} }},
		{"baseline.confidence", func(m *Metric) { m.SuccessCondition, m.Baseline = "", &Baseline{Mode: BaselineRatio, Confidence: 1.5} }},
		{"inconclusiveLimit", func(m *Metric) { m.SuccessCondition, m.Baseline = "", &Baseline{Mode: BaselineMannWhitney} }},
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("base metric: %v", err)
	}
	for _, tc := range cases {
		m := base()
		tc.mod(&m)
		err := m.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: Validate() = %v, want a FieldError on %s", tc.field, err, tc.field)
		}
	}
}

func TestValidateTemplate(t *testing.T) {
	m := Metric{Name: "a", Provider: ProviderSpec{Builtin: &BuiltinSpec{Metric: "requests"}}}
	err := Template{Metrics: []Metric{m, m}}.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "metrics[1].name") {
		t.Errorf("duplicate names: %v", err)
	}
	bad := m
	bad.Name = "b"
	bad.FailureCondition = "result >"
	err = Template{Metrics: []Metric{m, bad}}.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "metrics[1].failureCondition") {
		t.Errorf("bad condition: %v", err)
	}
}

func FuzzDecodeMetric(f *testing.F) {
	f.Add([]byte(`{"name":"x","interval":"1s","count":3,"successCondition":"result < 1","provider":{"builtin":{"metric":"error-rate"}}}`))
	f.Add([]byte("name: x\ninterval: 1.5\nnoData: pass\nbaseline: {mode: mann-whitney}\nprovider: {prometheus: {address: 'http://a', query: 'up{v=\"{{version}}\"}'}}"))
	f.Add([]byte(goodYAML))
	f.Add([]byte(`{"name":"w","provider":{"webhook":{"url":"http://h/{{version}}","value":"response.items.map(i, i.v)"}}}`))
	f.Add([]byte(`interval: 1e300`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMetric(data)
		if err != nil {
			return
		}
		if m.Validate() == nil {
			// A valid metric must also be runnable: conditions compile.
			if m.Baseline == nil {
				if _, err := m.conditions(); err != nil {
					t.Fatalf("valid metric whose conditions do not compile: %v", err)
				}
			}
		}
		_, _ = DecodeTemplate(data)
	})
}
