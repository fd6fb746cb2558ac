#!/usr/bin/env bash
# The recommendation table of docs/recommend.md: for each split seed, train cvae's default
# (conditional) model and the unconditional Mult-VAE (--no-genre-rows, as many steps) on
# MovieLens, evaluate both with the baselines (popularity, EASE) on the same held-out users,
# and print every figure as mean and standard deviation over the seeds
# (bench/recommend_report.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() {
  cat <<'USAGE'
usage: scripts/bench-recommend.sh [--seeds N] [--threads T] [--out DIR] [-- TRAIN OPTIONS]

  --seeds N    split seeds 1..N (default 5)
  --threads T  threads for training and evaluation (default 2)
  --out DIR    models, logs and eval JSON go to DIR (default out/recommend); the table to
               DIR/table.md
  -- ...       further options for both trainings (e.g. --epochs 50)

Needs data/movielens (scripts/fetch-data.sh movielens) and build/bin/cvae (scripts/build.sh).
About 10 minutes per seed on 2 cores.
USAGE
}

seeds=5 threads=2 out=out/recommend
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-recommend: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ -f data/movielens/ratings.csv ] || { echo "bench-recommend: no data/movielens (run scripts/fetch-data.sh movielens)" >&2; exit 1; }
[ -x build/bin/cvae ] || { echo "bench-recommend: no build/bin/cvae (run scripts/build.sh)" >&2; exit 1; }
mkdir -p "$out"
for s in $(seq 1 "$seeds"); do
  for kind in conditional unconditional; do
    # The unconditional model has one row per user (1/16 of the conditional rows): batches of
    # 32 for 400 epochs give it about the steps of the conditional default (5,400).
    flags=(); [ "$kind" = unconditional ] && flags=(--no-genre-rows --batch-size 32 --epochs 400)
    m="$out/$kind-$s.cvae"
    start=$(date +%s%N)
    build/bin/cvae train --data data/movielens --split-seed "$s" --out "$m" --threads "$threads" \
      --progress none "${flags[@]}" "${extra[@]}" > "$out/$kind-$s.train.log"
    echo "{\"train_ms\": $(( ($(date +%s%N) - start) / 1000000 ))}" > "$out/$kind-$s.time.json"
    base=(); [ "$kind" = conditional ] && base=(--baselines)
    build/bin/cvae eval --model "$m" --data data/movielens --split-seed "$s" --threads "$threads" \
      "${base[@]}" --json "$out/$kind-$s.json" > "$out/$kind-$s.eval.log"
    echo "seed $s $kind: $(grep -E '^  ndcg_100' "$out/$kind-$s.eval.log")"
  done
done
python3 bench/recommend_report.py "$out" "$seeds" | tee "$out/table.md"
