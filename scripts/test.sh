#!/usr/bin/env bash
# Everything a fresh machine needs to run every test: install, build, fetch the
# real data the slow tests use, then run the whole CTest suite
# (labels: unit, integration, slow).
# Extra arguments go to ctest, e.g. scripts/test.sh -L unit
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
bash scripts/build.sh -DCVAE_BUILD_TESTS=ON
bash scripts/fetch-data.sh mnist
cd build
ctest --output-on-failure -j "${CVAE_JOBS:-2}" --timeout 900 "$@"
