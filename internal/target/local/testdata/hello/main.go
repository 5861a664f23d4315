// Command hello is the local target's test workload: it serves
// "<version> pid=<pid>" on / and 200 on /healthz at 127.0.0.1:$PORT, and
// shuts down gracefully on SIGTERM. With -exit it exits at once (status 3);
// with -unready its /healthz answers 503 for ever (it serves / all the same);
// with -echo NAME it prints NAME=<its value> at start;
// with -error-rate R it answers that fraction of requests to / with a 500
// (spread evenly, so a rate is exact over any run of requests).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

func main() {
	version := flag.String("version", "dev", "version to report")
	exit := flag.Bool("exit", false, "exit immediately with status 3")
	unready := flag.Bool("unready", false, "answer /healthz with 503")
	echo := flag.String("echo", "", "print this environment variable at start (tests log masking)")
	errorRate := flag.Float64("error-rate", 0, "fraction of requests to / answered with 500")
	flag.Parse()
	if *exit {
		fmt.Println("exiting at once, as asked")
		os.Exit(3)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if *unready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getenv(r.URL.Query().Get("name")))
	})
	var served atomic.Int64
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		// Request n fails when the running count of due failures grows.
		n := float64(served.Add(1))
		if int64(n**errorRate) > int64((n-1)**errorRate) {
			w.WriteHeader(http.StatusInternalServerError)
		}
		fmt.Fprintf(w, "%s pid=%d", *version, os.Getpid())
	})
	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv("PORT"), Handler: mux}
	fmt.Printf("hello %s listening on %s\n", *version, srv.Addr)
	if *echo != "" {
		fmt.Printf("%s=%s\n", *echo, os.Getenv(*echo))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Println("serve:", err)
		os.Exit(1)
	}
}
