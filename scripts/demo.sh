#!/usr/bin/env bash
# The main job on a fresh machine: install, build, fetch the MNIST digits, train
# a conditional VAE on them, and write a PNG of generated digits, one row per label.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$(date +%s)
bash scripts/setup.sh
CVAE_TARGET=cvae_cli bash scripts/build.sh
bash scripts/fetch-data.sh mnist
mkdir -p models out
build/bin/cvae train --data data/mnist --out models/mnist.cvae
build/bin/cvae eval --model models/mnist.cvae --data data/mnist --split test --iw-samples 100 --json out/mnist-eval.json
build/bin/cvae generate --model models/mnist.cvae --label all -n 10 --seed 1 --out out/mnist-grid.png
echo
echo "demo finished in $(( $(date +%s) - start )) s"
echo "generated digits (one row per label 0-9, 10 samples each): $root/out/mnist-grid.png"
