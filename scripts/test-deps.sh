#!/usr/bin/env bash
# Installs what the test suite needs, idempotently: each tool is checked
# first and installed from Debian packages only when missing.
set -euo pipefail

need_apt=()
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v git   >/dev/null 2>&1 || need_apt+=(git)
command -v make  >/dev/null 2>&1 || need_apt+=(make)

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
echo "test-deps: bwrap $(bwrap --version | awk '{print $2}'), $(git --version)"
