#!/usr/bin/env bash
# Installs what the test suite needs, idempotently: each tool is checked
# first and installed from Debian packages only when missing.
set -euo pipefail

need_apt=()
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v git   >/dev/null 2>&1 || need_apt+=(git)
command -v make  >/dev/null 2>&1 || need_apt+=(make)
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus) # analysis tests start their own

if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "test-deps: need root or sudo to install: ${need_apt[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "test-deps: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q "${need_apt[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q "${need_apt[@]}" >/dev/null
  }
fi
echo "test-deps: bwrap $(bwrap --version | awk '{print $2}'), $(git --version), prometheus $(prometheus --version 2>&1 | awk 'NR==1{print $3}')"

# Real peers of the supply-chain tests, built once into a versioned cache.
here="$(cd "$(dirname "$0")" && pwd)"
"$here/go-tool.sh" cosign v3.1.3 github.com/sigstore/cosign/v3/cmd/cosign >/dev/null
"$here/go-tool.sh" crane v0.22.1 github.com/google/go-containerregistry/cmd/crane >/dev/null
"$here/go-tool.sh" oras v1.3.6 oras.land/oras/cmd/oras >/dev/null
command -v node >/dev/null 2>&1 && "$here/sbom-validate/install.sh" >/dev/null
echo "test-deps: cosign, crane, oras cached in ${SLIPWAY_TOOLS:-$HOME/.cache/slipway-tools}"
