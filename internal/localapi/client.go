package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// pingTimeout bounds the liveness check of Dial.
const pingTimeout = 2 * time.Second

// maxLine bounds one line of a Stream.
const maxLine = 4 << 20

// APIError is a non-2xx answer of the local API.
type APIError struct {
	Status  int
	Message string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("slipway up: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Client talks to a running server. It is safe for concurrent use.
type Client struct {
	info  Info
	token string
	hc    *http.Client
}

// Dial finds the server of stateDir through info.json and the token and
// checks it answers /v1/ping. It returns ErrNotRunning when nobody holds
// the lock (a stale info.json left by a kill -9 is then removed), and
// ErrNotResponding when the lock is held but the API does not answer.
func Dial(ctx context.Context, stateDir string) (*Client, error) {
	info, err := readInfo(stateDir)
	var token string
	if err == nil {
		token, err = readToken(stateDir)
	}
	if err == nil {
		c := newClient(info, token)
		if err = c.ping(ctx); err == nil {
			return c, nil
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("dial slipway up: %w", ctx.Err())
	}
	held, herr := lockHeld(stateDir)
	switch {
	case herr != nil:
		return nil, herr
	case !held:
		return nil, fmt.Errorf("%w (state dir %s)", ErrNotRunning, stateDir)
	}
	return nil, fmt.Errorf("%w (state dir %s): %w", ErrNotResponding, stateDir, err)
}

func newClient(info Info, token string) *Client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Client{info: info, token: token, hc: &http.Client{Transport: tr}}
}

// ping checks the server answers and is the one info.json names.
func (c *Client) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var got Info
	if err := c.Do(ctx, http.MethodGet, "/v1/ping", nil, &got); err != nil {
		return err
	}
	if got.PID != c.info.PID {
		return fmt.Errorf("ping answered by pid %d, info.json names pid %d", got.PID, c.info.PID)
	}
	c.info.Version, c.info.Started = got.Version, got.Started
	return nil
}

// Addr is the server's host:port.
func (c *Client) Addr() string { return c.info.Addr }

// Info describes the server as it answered the last ping.
func (c *Client) Info() Info { return c.info }

// Do sends in (when not nil) as JSON and decodes a 2xx answer into out
// (when not nil). A non-2xx answer is an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Stream sends in like Do and calls fn with every non-empty line of the
// answer (newline-delimited JSON, see LineWriter) as it arrives. line is
// only valid during the call. An error from fn stops the stream and is
// returned as is.
func (c *Client) Stream(ctx context.Context, method, path string, in any, fn func(line []byte) error) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s %s: read stream: %w", method, path, err)
	}
	return nil
}

// startingWait bounds how long send retries 503, which the server answers
// (before handling anything) while it is still starting.
const startingWait = 60 * time.Second

// send performs the request, retrying while the server answers 503 (still
// starting: the request was not handled); on another non-2xx status it
// closes the body and returns an *APIError.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	deadline := time.Now().Add(startingWait)
	for {
		resp, err := c.sendOnce(ctx, method, path, in)
		if !IsStatus(err, http.StatusServiceUnavailable) || time.Now().After(deadline) {
			return resp, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Client) sendOnce(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.info.Addr+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, decodeAPIError(resp.StatusCode, b)
	}
	return resp, nil
}

// decodeAPIError reads {"error": "..."}; any other body becomes the message
// verbatim (trimmed), so a proxy's or a panic's answer is still shown.
func decodeAPIError(status int, body []byte) *APIError {
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
		return &APIError{Status: status, Message: eb.Error}
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &APIError{Status: status, Message: msg}
}

// IsStatus reports whether err is an *APIError with the given status.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}
