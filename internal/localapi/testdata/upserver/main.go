// Command upserver is a stand-in for `slipway up` in localapi's tests: it
// serves the local API for --state-dir until SIGTERM or POST /v1/shutdown.
// GET /v1/slow?ms=N answers after N milliseconds, to test draining.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/slipway-ci/slipway/internal/localapi"
)

func main() {
	stateDir := flag.String("state-dir", "", "state dir")
	hung := flag.Bool("hung", false, "hold the lock and publish an address nobody serves")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *hung {
		playHung(ctx, *stateDir)
		return
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		localapi.WriteJSON(w, http.StatusOK, map[string]int{"slept": ms})
	})
	srv, err := localapi.Serve(ctx, localapi.Options{
		StateDir: *stateDir, Handler: mux, Logf: log.Printf, Version: "upserver",
	})
	var re *localapi.RunningError
	if errors.As(err, &re) {
		log.Printf("lost: %v", err)
		os.Exit(3)
	}
	if err != nil {
		log.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-srv.ShutdownRequested():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Fatal(err)
	}
	log.Printf("bye")
}

// playHung imitates a server whose API stopped answering: it holds the
// lock and names a closed port in info.json until it gets SIGTERM.
func playHung(ctx context.Context, stateDir string) {
	up := filepath.Join(stateDir, "up")
	if err := os.MkdirAll(up, 0o700); err != nil {
		log.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(up, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing answers there now
	info, _ := json.Marshal(localapi.Info{Addr: addr, PID: os.Getpid(), Started: time.Now()})
	if err := os.WriteFile(filepath.Join(up, "info.json"), info, 0o600); err != nil {
		log.Fatal(err)
	}
	<-ctx.Done()
	log.Printf("hung server got signal")
}
