#!/usr/bin/env bash
# make bench: slipway side by side with its peers (make, sha256sum, a plain
# file write, crane copy for promotion), plus the engine's and the masker's
# micro-benchmarks. Each line ends with the figures and the ratio; nothing
# here passes or fails on timing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v make >/dev/null || { echo "bench: make is required" >&2; exit 1; }
echo "== slipway vs peers (cmd/slipway)"
SLIPWAY_E2E=1 go test -run '^$' -bench . -benchtime "${BENCHTIME:-5x}" -timeout 30m ./cmd/slipway/ | grep -E '^Benchmark|^ok|FAIL'
echo "== engine, executor, masker"
go test -run '^$' -bench 'DAG200|True|Writer' -benchtime 5x ./internal/engine/ ./internal/executor/local/ ./internal/secrets/ | grep -E '^Benchmark|FAIL'
echo "== promotion vs crane copy (internal/artifact, ${SLIPWAY_BENCH_PROMOTE_SIZE:-1GiB} artifact)"
# The registry's storage lives in the test's TempDir and is removed with it.
SLIPWAY_TOOL_CRANE=$(scripts/go-tool.sh crane v0.22.1 github.com/google/go-containerregistry/cmd/crane) \
  go test -run '^$' -bench PromoteVsCrane -benchtime 1x -timeout 15m ./internal/artifact/ | grep -vE '^(goos|goarch|pkg|cpu):|^PASS$'
echo "== secrets: slipway vs gitleaks CLI (internal/scan/secrets, prometheus v0.316.0 source tree)"
# The tree comes from the Go module cache; the benchmark scans a copy of it
# in its TempDir, edits one file there and rescans with the warm cache.
go mod download -json github.com/prometheus/prometheus@v0.316.0 >/dev/null
SLIPWAY_TOOL_GITLEAKS=$(scripts/go-tool.sh gitleaks v8.30.1 github.com/zricethezav/gitleaks/v8) \
  go test -run '^$' -bench SecretsVsGitleaks -benchtime 1x -timeout 20m ./internal/scan/secrets/ | grep -vE '^(goos|goarch|pkg|cpu):|^PASS$'
echo "== router: added latency at p50/p99 vs a direct connection (2000 loopback requests, concurrency 8)"
go test -run '^$' -bench RouterOverhead -benchtime 3x ./internal/target/local/router/ | grep -vE '^(goos|goarch|pkg|cpu):|^PASS$'
echo "== deployments: auto-rollback, blue-green switch, rollback command (real controller + local target, loopback load)"
go test -run '^$' -bench 'BenchmarkAutoRollback|BenchmarkBlueGreenSwitch|BenchmarkRollbackCommand' -benchtime 1x -timeout 15m ./internal/deploy/ | grep -vE '^(goos|goarch|pkg|cpu):|^PASS$'
