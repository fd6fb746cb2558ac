#!/usr/bin/env bash
# Configure and build cvae (library, CLI at build/bin/cvae, tests) in build/.
# Usage: scripts/build.sh [extra cmake -D options]
# CVAE_TARGET=cvae_cli builds only the CLI (what scripts/demo.sh needs); CVAE_JOBS sets -j.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="${CVAE_JOBS:-2}"
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [ $# -gt 0 ]; then
  cmake -S . -B build "$@"
fi
target=()
if [ -n "${CVAE_TARGET:-}" ]; then target=(--target "$CVAE_TARGET"); fi
cmake --build build -j "$jobs" "${target[@]}"
