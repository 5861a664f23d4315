package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// maxWebhookBody bounds what a webhook may answer.
const maxWebhookBody = 1 << 20

// webhookProvider calls an HTTP endpoint and picks the value out of its
// JSON answer with a CEL expression over `response`. A non-2xx status, a
// body that is not JSON, or a value that is not a number, a bool (1 or 0),
// a list of numbers or null is an error; null and an empty list are no
// data.
type webhookProvider struct {
	spec  WebhookSpec
	hc    *http.Client
	value cel.Program
}

var (
	webhookEnvOnce sync.Once
	webhookEnv     *cel.Env
	webhookEnvErr  error
)

func compileWebhookValue(src string) (cel.Program, error) {
	webhookEnvOnce.Do(func() {
		webhookEnv, webhookEnvErr = cel.NewEnv(cel.Variable("response", cel.DynType))
	})
	if webhookEnvErr != nil {
		return nil, webhookEnvErr
	}
	ast, iss := webhookEnv.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	return webhookEnv.Program(ast, cel.CostLimit(100000))
}

func newWebhook(spec WebhookSpec, hc *http.Client) (*webhookProvider, error) {
	prg, err := compileWebhookValue(spec.Value)
	if err != nil {
		return nil, fmt.Errorf("webhook value: %w", err)
	}
	return &webhookProvider{spec: spec, hc: hc, value: prg}, nil
}

// Measure calls the endpoint once.
func (w *webhookProvider) Measure(ctx context.Context, q Query) (Result, error) {
	req, err := w.request(ctx, q.Args)
	if err != nil {
		return Result{}, err
	}
	timeout := w.spec.Timeout.Duration
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := w.hc.Do(req.WithContext(ctx))
	if err != nil {
		return Result{}, fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookBody+1))
	if err != nil {
		return Result{}, fmt.Errorf("webhook %s: %w", req.URL.Redacted(), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Result{}, fmt.Errorf("webhook %s: HTTP %d: %.200s", req.URL.Redacted(), resp.StatusCode, body)
	}
	if len(body) > maxWebhookBody {
		return Result{}, fmt.Errorf("webhook %s: response larger than %d bytes", req.URL.Redacted(), maxWebhookBody)
	}
	return webhookValue(w.value, body)
}

func (w *webhookProvider) request(ctx context.Context, args Args) (*http.Request, error) {
	u, err := expand(w.spec.URL, args)
	if err != nil {
		return nil, fmt.Errorf("webhook url: %w", err)
	}
	method := strings.ToUpper(w.spec.Method)
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if w.spec.Body != "" {
		b, err := expand(w.spec.Body, args)
		if err != nil {
			return nil, fmt.Errorf("webhook body: %w", err)
		}
		if !json.Valid([]byte(b)) {
			return nil, fmt.Errorf("webhook body is not JSON after templating: %.200s", b)
		}
		body = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range w.spec.Headers {
		hv, err := expand(v, args)
		if err != nil {
			return nil, fmt.Errorf("webhook header %s: %w", k, err)
		}
		req.Header.Set(k, hv)
	}
	return req, nil
}

// webhookValue decodes a JSON answer and evaluates the value expression.
func webhookValue(prg cel.Program, body []byte) (Result, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return Result{}, fmt.Errorf("webhook response is not JSON: %w", err)
	}
	out, _, err := prg.Eval(map[string]any{"response": doc})
	if err != nil {
		return Result{}, fmt.Errorf("webhook value: %w", err)
	}
	return celToResult(out)
}

func celToResult(v ref.Val) (Result, error) {
	switch x := v.(type) {
	case types.Null:
		return NoData(), nil
	case types.Double:
		return ScalarResult(float64(x)), nil
	case types.Int:
		return ScalarResult(float64(x)), nil
	case types.Uint:
		return ScalarResult(float64(x)), nil
	case types.Bool:
		if x {
			return ScalarResult(1), nil
		}
		return ScalarResult(0), nil
	case traits.Lister:
		var out []float64
		it := x.Iterator()
		for it.HasNext() == types.True {
			r, err := celToResult(it.Next())
			if err != nil || r.Scalar == nil {
				return Result{}, fmt.Errorf("webhook value: a list must hold numbers only")
			}
			out = append(out, *r.Scalar)
		}
		if len(out) == 0 {
			return NoData(), nil
		}
		return VectorResult(out), nil
	}
	return Result{}, fmt.Errorf("webhook value: a %s, not a number, list of numbers or null", v.Type())
}
