#!/usr/bin/env bash
# go-tool.sh NAME VERSION PACKAGE: builds a Go tool once into a versioned
# cache (${SLIPWAY_TOOLS:-~/.cache/slipway-tools}/NAME-VERSION/NAME) and
# prints its path. A cached tool costs nothing the second time.
set -euo pipefail
name=$1 version=$2 pkg=$3
dir="${SLIPWAY_TOOLS:-$HOME/.cache/slipway-tools}/$name-$version"
if [ ! -x "$dir/$name" ]; then
  mkdir -p "$dir.tmp"
  echo "tools: building $name $version (cached in $dir)" >&2
  GOBIN="$dir.tmp" GOFLAGS=-mod=mod go install "$pkg@$version" >&2
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
echo "$dir/$name"
