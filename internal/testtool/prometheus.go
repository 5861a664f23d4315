package testtool

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// StartPrometheus runs the real Prometheus (the Debian package's binary) on
// a free loopback port with a 1 s scrape interval, scraping metricsPath on
// each target (host:port), and returns its URL. It stops with the test; its
// log is shown when the test failed.
func StartPrometheus(tb testing.TB, metricsPath string, targets ...string) string {
	tb.Helper()
	bin := Find(tb, "prometheus", "")
	dir := tb.TempDir()
	quoted := make([]string, len(targets))
	for i, t := range targets {
		quoted[i] = fmt.Sprintf("%q", t)
	}
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n"+
		"  - job_name: slipway\n    metrics_path: %q\n    static_configs: [{targets: [%s]}]\n", metricsPath, strings.Join(quoted, ", "))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--web.listen-address="+addr,
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--log.level=warn")
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
		if tb.Failed() {
			b, _ := os.ReadFile(log.Name())
			tb.Logf("prometheus log:\n%s", b)
		}
	})
	return "http://" + addr
}
