#!/usr/bin/env bash
# make bench: slipway side by side with its peers (make, sha256sum, a plain
# file write), plus the engine's and the masker's micro-benchmarks. Each
# line ends with the figures and the ratio; nothing here passes or fails on
# timing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v make >/dev/null || { echo "bench: make is required" >&2; exit 1; }
echo "== slipway vs peers (cmd/slipway)"
SLIPWAY_E2E=1 go test -run '^$' -bench . -benchtime "${BENCHTIME:-5x}" -timeout 30m ./cmd/slipway/ | grep -E '^Benchmark|^ok|FAIL'
echo "== engine, executor, masker"
go test -run '^$' -bench 'DAG200|True|Writer' -benchtime 5x ./internal/engine/ ./internal/executor/local/ ./internal/secrets/ | grep -E '^Benchmark|FAIL'
