// Command hello is the sample service of Slipway's quick start: an HTTP
// server on $PORT with /, /healthz and Prometheus /metrics. A build can be
// made faulty on purpose with -ldflags "-X main.errorRate=0.3": that share
// of requests to / then fails with 500, so a bad release is a distinct
// artifact that a canary can catch.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Set at build time with -ldflags -X.
var (
	version   = "dev"
	errorRate = "0"
)

func main() {
	rate, err := strconv.ParseFloat(errorRate, 64)
	if err != nil || rate < 0 || rate > 1 {
		log.Fatalf("bad errorRate %q: want a number between 0 and 1", errorRate)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(os.Getenv("HOST"), port))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: newServer(version, rate, rand.Float64).routes(), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown) //nolint:errcheck // exiting anyway
	}()
	log.Printf("hello %s listening on %s", version, ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

type server struct {
	version   string
	errorRate float64
	random    func() float64
	requests  atomic.Int64
	failures  atomic.Int64
}

func newServer(version string, errorRate float64, random func() float64) *server {
	return &server{version: version, errorRate: errorRate, random: random}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.hello)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /metrics", s.metrics)
	return mux
}

func (s *server) hello(w http.ResponseWriter, _ *http.Request) {
	s.requests.Add(1)
	if s.random() < s.errorRate {
		s.failures.Add(1)
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "hello from %s\n", s.version)
}

// metrics writes the Prometheus text exposition format by hand: the
// example has no dependency.
func (s *server) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# HELP hello_requests_total Requests to /.\n# TYPE hello_requests_total counter\n")
	fmt.Fprintf(w, "hello_requests_total{version=%q} %d\n", s.version, s.requests.Load())
	fmt.Fprintf(w, "# HELP hello_failures_total Requests to / answered with 500.\n# TYPE hello_failures_total counter\n")
	fmt.Fprintf(w, "hello_failures_total{version=%q} %d\n", s.version, s.failures.Load())
	fmt.Fprintf(w, "# HELP hello_build_info Build of the running binary.\n# TYPE hello_build_info gauge\n")
	fmt.Fprintf(w, "hello_build_info{version=%q,error_rate=\"%g\"} 1\n", s.version, s.errorRate)
}
