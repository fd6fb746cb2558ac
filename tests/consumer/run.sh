#!/usr/bin/env bash
# The `consumer` test: installs a cvae build into a temporary prefix, builds
# tests/consumer/ (a separate project: find_package(cvae), cvae::cvae) against
# it and runs it.
# Usage: tests/consumer/run.sh <cvae build directory> [cmake] [generator]
set -euo pipefail
build="$(cd "$1" && pwd)"
cmake="${2:-cmake}"
generator="${3:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/cvae-consumer.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$cmake" --install "$build" --prefix "$tmp/prefix" >/dev/null
gen=()
if [ -n "$generator" ]; then gen=(-G "$generator"); fi
"$cmake" -S "$here" -B "$tmp/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/configure.log" 2>&1 || {
  cat "$tmp/configure.log"
  exit 1
}
"$cmake" --build "$tmp/build"
mkdir "$tmp/work"
"$tmp/build/cvae_consumer" "$tmp/work"
