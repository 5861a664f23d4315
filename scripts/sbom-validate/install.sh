#!/usr/bin/env bash
# install.sh: installs the pinned SBOM validators (package-lock.json) into
# scripts/sbom-validate/node_modules. Idempotent: skips npm when the
# installed tree already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.slipway-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" >"$stamp"
