package supervisor

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/testtool"
)

// TestMain doubles as the supervised test server when SUPERVISOR_TEST_SERVER=1.
func TestMain(m *testing.M) {
	if os.Getenv("SUPERVISOR_TEST_SERVER") == "1" {
		testServer()
		return
	}
	code := m.Run()
	if code == 0 && testtool.LeftChildren() {
		code = 1 // a replica was not stopped or not reaped
	}
	os.Exit(code)
}

// testServer serves /ready and /healthz on 127.0.0.1:$PORT. Knobs:
// TS_FAIL_READY=1 fails readiness; TS_FAIL_LIVE_AFTER=<duration> fails
// liveness after that long; TS_EXIT_AFTER=<duration> exits with status 3;
// TS_ALLOC_MB=<n> allocates and touches n MiB, 1 MiB per ms;
// TS_IGNORE_TERM=1 ignores SIGTERM; TS_TICK=<duration> prints "tick N"
// that often.
func testServer() {
	start := time.Now()
	fmt.Printf("test server pid %d listening on %s\n", os.Getpid(), os.Getenv("PORT"))
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		for range sigs {
			fmt.Println("got SIGTERM")
			if os.Getenv("TS_IGNORE_TERM") != "1" {
				os.Exit(0)
			}
		}
	}()
	if d, err := time.ParseDuration(os.Getenv("TS_EXIT_AFTER")); err == nil {
		time.AfterFunc(d, func() { fmt.Println("exiting by request"); os.Exit(3) })
	}
	if n := os.Getenv("TS_ALLOC_MB"); n != "" {
		go allocate(n)
	}
	if d, err := time.ParseDuration(os.Getenv("TS_TICK")); err == nil {
		go func() {
			for i := 1; ; i++ {
				fmt.Printf("tick %d\n", i)
				time.Sleep(d)
			}
		}()
	}
	failLive, _ := time.ParseDuration(os.Getenv("TS_FAIL_LIVE_AFTER"))
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if os.Getenv("TS_FAIL_READY") == "1" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if failLive > 0 && time.Since(start) > failLive {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintf(w, "%d", os.Getpid()) })
	err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), mux)
	fmt.Println("serve:", err)
	os.Exit(1)
}

var sink [][]byte

func allocate(n string) {
	var mb int
	_, _ = fmt.Sscan(n, &mb)
	for i := 0; i < mb; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(j)
		}
		sink = append(sink, b)
		time.Sleep(time.Millisecond)
	}
	fmt.Println("allocated", mb, "MiB")
}
