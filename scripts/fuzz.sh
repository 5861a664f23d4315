#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 3s):
# briefly in `make test`, longer with `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-3s}
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
  for t in $targets; do
    echo "fuzz: $pkg $t ($FUZZTIME)"
    if ! go test -run "^$" -fuzz "^$t\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 1s "$pkg" >/tmp/slipway-fuzz.$$.log 2>&1; then
      cat /tmp/slipway-fuzz.$$.log
      status=1
    fi
  done
done
rm -f /tmp/slipway-fuzz.$$.log
exit $status
