#!/usr/bin/env bash
# conformance.sh: runs the OCI distribution-spec conformance suite (a go
# tool dependency) against Slipway's embedded registry, served in-process
# on a throwaway state dir with its policy in front. Fails on any failure.
# Extra arguments go to `go test` (e.g. -timeout 20m).
set -euo pipefail
cd "$(dirname "$0")/.."
SLIPWAY_CONFORMANCE=1 exec go test -count=1 -v -run '^TestConformance$' "$@" ./internal/registry/
