package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/api"
	"github.com/prometheus/common/model"
)

// prometheusProvider runs an instant query over Prometheus's HTTP API
// (/api/v1/query). A vector gives its sample values (in the server's
// order), a scalar its value, an empty vector no data; NaN values are kept
// and Result.Empty treats an all-NaN result as no data. Matrix and string
// results are errors: analysis needs an instant value.
//
// It speaks the API through client_golang's transport-level api.Client and
// decodes with prometheus/common/model; api/prometheus/v1 would pull
// json-iterator, which this module does not carry.
type prometheusProvider struct {
	spec   PrometheusSpec
	client api.Client
}

func newPrometheus(spec PrometheusSpec, hc *http.Client) (*prometheusProvider, error) {
	c, err := api.NewClient(api.Config{Address: spec.Address, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", spec.Address, err)
	}
	return &prometheusProvider{spec: spec, client: c}, nil
}

type promResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

type promData struct {
	ResultType model.ValueType `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// Measure runs the templated query at q.Time.
func (p *prometheusProvider) Measure(ctx context.Context, q Query) (Result, error) {
	query, err := expand(p.spec.Query, q.Args)
	if err != nil {
		return Result{}, err
	}
	timeout := p.spec.Timeout.Duration
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	form := url.Values{"query": {query}, "timeout": {strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64) + "s"}}
	if !q.Time.IsZero() {
		form.Set("time", strconv.FormatFloat(float64(q.Time.UnixNano())/1e9, 'f', 3, 64))
	}
	u := p.client.URL("/api/v1/query", nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return Result{}, fmt.Errorf("prometheus: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, err := p.client.Do(ctx, req)
	if err != nil {
		return Result{}, fmt.Errorf("prometheus query %q: %w", query, err)
	}
	return decodePromResponse(resp.StatusCode, body, query)
}

// decodePromResponse reads an /api/v1/query answer.
func decodePromResponse(status int, body []byte, query string) (Result, error) {
	var pr promResponse
	if err := json.Unmarshal(body, &pr); err != nil {
		return Result{}, fmt.Errorf("prometheus query %q: HTTP %d: not an API response: %w", query, status, err)
	}
	if pr.Status != "success" {
		return Result{}, fmt.Errorf("prometheus query %q: HTTP %d: %s: %s", query, status, pr.ErrorType, pr.Error)
	}
	var d promData
	if err := json.Unmarshal(pr.Data, &d); err != nil {
		return Result{}, fmt.Errorf("prometheus query %q: %w", query, err)
	}
	switch d.ResultType {
	case model.ValVector:
		var v model.Vector
		if err := json.Unmarshal(d.Result, &v); err != nil {
			return Result{}, fmt.Errorf("prometheus query %q: %w", query, err)
		}
		if len(v) == 0 {
			return NoData(), nil
		}
		out := make([]float64, len(v))
		for i, s := range v {
			out[i] = float64(s.Value)
		}
		return VectorResult(out), nil
	case model.ValScalar:
		var s model.Scalar
		if err := json.Unmarshal(d.Result, &s); err != nil {
			return Result{}, fmt.Errorf("prometheus query %q: %w", query, err)
		}
		return ScalarResult(float64(s.Value)), nil
	}
	return Result{}, fmt.Errorf("prometheus query %q: a %s result: use an instant vector or scalar", query, d.ResultType)
}
