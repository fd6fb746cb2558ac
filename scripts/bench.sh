#!/usr/bin/env bash
# Side-by-side speed benchmark: cvae (C++/libtorch) against its PyTorch twin on Fashion-MNIST.
# See usage() and bench/README.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
PROG="bench"

usage() {
  cat <<'USAGE'
usage: scripts/bench.sh [--reps N] [--epochs E] [--threads T] [--build] [--ftz] [--out DIR]

  --reps N     training runs of each side, and timed generation runs of each (default 5)
  --epochs E   epochs per training run (default 2; with E > 1 the first epoch of every
               run is a warm-up and left out of the per-epoch figures)
  --threads T  threads for both sides and the matmul peak (default 2)
  --build      build cvae_cli and cvae_sgemm_peak (scripts/build.sh) first even when
               they exist (by default it only builds what is missing)
  --ftz        diagnostic: train both sides with flush-to-zero/denormals-are-zero set at
               process start (LD_PRELOAD of bench/ftz_preload.c, built with cc into DIR);
               without it, both run exactly as shipped
  --out DIR    raw outputs go to DIR/raw, the summary to DIR.json (default out/bench:
               out/bench/raw and out/bench.json)

Trains the C++ model (build/bin/cvae train ... --val-fraction 0) and the PyTorch twin
(bench/twin_train.py, Debian's /usr/bin/python3 + python3-torch) in alternation, evaluates
test -ELBO of each, times cold-start generation of 64 samples by each, measures the rate of
a large sgemm through torch (bench/matmul_peak.py) and straight from OpenBLAS and oneDNN
(build/bin/cvae_sgemm_peak), the fastest of them being the machine's limit, prints a table and
writes every raw number to out/bench.json. Needs GNU time (/usr/bin/time; Debian package
"time", in scripts/setup.sh).
USAGE
}

die() {
  echo "$PROG: $*" >&2
  exit 1
}

reps=5
epochs=2
threads=2
force_build=0
ftz=0
out="out/bench"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) [ $# -ge 2 ] || die "--reps needs a value"; reps="$2"; shift 2 ;;
    --epochs) [ $# -ge 2 ] || die "--epochs needs a value"; epochs="$2"; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; threads="$2"; shift 2 ;;
    --build) force_build=1; shift ;;
    --ftz) ftz=1; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
for v in "$reps" "$epochs" "$threads"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "--reps, --epochs and --threads take positive integers (got '$v')"
done

PY=/usr/bin/python3  # Debian's Python with python3-torch (not a pyenv python3 on PATH)
[ -x /usr/bin/time ] || die "GNU time is missing (/usr/bin/time): apt-get install time, or bash scripts/setup.sh"
"$PY" -c "import torch, numpy" 2>/dev/null ||
  die "$PY cannot import torch and numpy: CVAE_WITH_PYTHON=1 bash scripts/setup.sh"

t_begin=$(date +%s.%N)
load_before="$(cat /proc/loadavg)"
echo "$PROG: load before: $load_before"

if [ "$force_build" = 1 ] || [ ! -x build/bin/cvae ] || [ ! -x build/bin/cvae-torch ]; then
  CVAE_TARGET=cvae_cli bash scripts/build.sh
fi
if [ "$force_build" = 1 ] || [ ! -x build/bin/cvae_sgemm_peak ]; then
  CVAE_TARGET=cvae_sgemm_peak bash scripts/build.sh
fi
CVAE=build/bin/cvae
[ -x "$CVAE" ] || die "$CVAE was not built"
# Others may rebuild build/ while this runs: note which binary and source it measured.
bin_id() {
  echo "sha256 $(cat "$CVAE" build/bin/cvae-torch build/bin/cvae_sgemm_peak | sha256sum | cut -c1-16)" \
    "(cvae + cvae-torch + cvae_sgemm_peak)," \
    "built $(stat -c %y build/bin/cvae-torch | cut -c1-19)"
}
bin_before="$(bin_id)"
src_state="HEAD $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(git status --porcelain -- src include CMakeLists.txt 2>/dev/null | wc -l) uncommitted change(s) in src/ include/ CMakeLists.txt"
data=data/fashion-mnist
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] || [ ! -f "$data/t10k-images-idx3-ubyte.gz" ]; then
  bash scripts/fetch-data.sh fashion-mnist
fi
# Label index 3 for both sides; the CLI takes its name from labels.txt ("Dress").
label_index=3
label_name="$label_index"
if [ -f "$data/labels.txt" ]; then label_name="$(sed -n "$((label_index + 1))p" "$data/labels.txt")"; fi

raw="$out/raw"
rm -rf "$raw"
mkdir -p "$raw"
pre=()  # what training commands run under: nothing, or env LD_PRELOAD=<the FTZ shim> with --ftz
if [ "$ftz" = 1 ]; then
  cc -O2 -shared -fPIC -o "$out/ftz_preload.so" bench/ftz_preload.c || die "cannot build the FTZ shim"
  pre=(env "LD_PRELOAD=$(cd "$out" && pwd)/ftz_preload.so")
  echo "$PROG: --ftz: both sides train with flush-to-zero and denormals-are-zero (diagnostic)"
fi

# run_timed NAME CMD...: runs CMD under GNU time -v (peak RSS, wall, CPU) with its output in
# $raw/NAME.log, and records the whole machine's /proc/stat cpu line and load before and after,
# so the report can tell how much CPU other processes took meanwhile.
run_timed() {
  local name="$1"
  shift
  {
    echo "stat_before $(head -1 /proc/stat)"
    echo "load_before $(cat /proc/loadavg)"
    echo "psi_before $(head -1 /proc/pressure/cpu 2>/dev/null || true)"
  } >"$raw/$name.sys"
  if ! /usr/bin/time -v -o "$raw/$name.time" "$@" >"$raw/$name.log" 2>&1; then
    cat "$raw/$name.log" >&2
    die "'$*' failed (log: $raw/$name.log)"
  fi
  {
    echo "stat_after $(head -1 /proc/stat)"
    echo "load_after $(cat /proc/loadavg)"
    echo "psi_after $(head -1 /proc/pressure/cpu 2>/dev/null || true)"
  } >>"$raw/$name.sys"
}

# cpp_train I [autograd]: the default engine (fused for this model), or --engine autograd
# (libtorch's autograd and the same flat Adam) as side "cpp_autograd".
cpp_train() {
  local i="$1" side=cpp engine=()
  if [ "${2:-}" = autograd ]; then side=cpp_autograd; engine=(--engine autograd); fi
  echo "$PROG: [$i/$reps] C++ train ($epochs epochs, $threads threads${engine[*]:+, ${engine[*]}})"
  # The MLP model the twin mirrors, named option by option (cvae's own defaults are the
  # conv model of docs/models.md); no latent mixture, which the twin does not fit.
  run_timed "${side}_train_$i" "${pre[@]}" "$CVAE" train --data "$data" --out "$raw/${side}_$i.cvae" --epochs "$epochs" \
    --arch mlp --prior standard --likelihood bernoulli --hidden 512,256 --latent 8 --batch-size 128 \
    --lr 0.001 --kl-warmup 0 --gmm-components 0 "${engine[@]}" \
    --val-fraction 0 --threads "$threads" --progress none --metrics "$raw/${side}_$i.metrics.jsonl"
  "$CVAE" eval --model "$raw/${side}_$i.cvae" --data "$data" --iw-samples 0 --threads "$threads" \
    --json "$raw/${side}_$i.eval.json" >"$raw/${side}_eval_$i.log" 2>&1 ||
    die "C++ eval failed (log: $raw/${side}_eval_$i.log)"
}

twin_train() {
  local i="$1"
  echo "$PROG: [$i/$reps] twin train ($epochs epochs, $threads threads)"
  run_timed "twin_train_$i" "${pre[@]}" "$PY" bench/twin_train.py --data "$data" --epochs "$epochs" \
    --threads "$threads" --seed 1 --out-json "$raw/twin_$i.json" --save-weights "$raw/twin_$i.pt"
}

# The large-product rate through torch (OpenBLAS), and straight from OpenBLAS and oneDNN
# (build/bin/cvae_sgemm_peak, bench/sgemm_peak.cpp): the fastest is the practical limit.
mm() {
  echo "$PROG: matmul peak ($1)"
  "$PY" bench/matmul_peak.py --threads "$threads" --json "$raw/matmul_$1.json" 2>"$raw/matmul_$1.log"
  build/bin/cvae_sgemm_peak --threads "$threads" --json "$raw/sgemm_$1.json" 2>"$raw/sgemm_$1.log" ||
    die "cvae_sgemm_peak failed (log: $raw/sgemm_$1.log)"
}

mm before
# Training: the sides alternate; the order flips every rep (C A T, T A C, C A T, ...) so a
# slow drift in machine load hits all alike. A = the C++ binary with --engine autograd.
for i in $(seq 1 "$reps"); do
  if [ $((i % 2)) = 1 ]; then
    cpp_train "$i"; cpp_train "$i" autograd; twin_train "$i"
  else
    twin_train "$i"; cpp_train "$i" autograd; cpp_train "$i"
  fi
done

# Generation: a fresh process each time, 64 samples of one label, from the models of rep 1.
# One untimed run of each first, so both find their libraries in the page cache. The twin
# decodes 64 draws from N(0, I); so does cvae with --rerank 1 --temperature 1 (its default
# sampler draws 16 candidates per sample at temperature 1.4 and keeps the best, docs/cli.md).
gen_cpp() {
  run_timed "gen_cpp_$1" "$CVAE" generate --model "$raw/cpp_1.cvae" --label "$label_name" -n 64 \
    --rerank 1 --temperature 1 --threads "$threads" --out "$raw/gen_cpp_$1.png"
}
# The same request in the full program (libtorch loaded; the same sampler code, so the
# same PNG), and cvae's default sampler (16 candidates per sample at temperature 1.4, each
# scored by the model's encoder and decoder: the full program, through the launcher).
gen_cpptorch() {
  run_timed "gen_cpptorch_$1" "build/bin/cvae-torch" generate --model "$raw/cpp_1.cvae" \
    --label "$label_name" -n 64 --rerank 1 --temperature 1 --threads "$threads" \
    --out "$raw/gen_cpptorch_$1.png"
}
gen_cppdefault() {
  run_timed "gen_cppdefault_$1" "$CVAE" generate --model "$raw/cpp_1.cvae" --label "$label_name" \
    -n 64 --threads "$threads" --out "$raw/gen_cppdefault_$1.png"
}
gen_twin() {
  run_timed "gen_twin_$1" "$PY" bench/twin_generate.py --weights "$raw/twin_1.pt" --n 64 \
    --label "$label_index" --threads "$threads" --out "$raw/gen_twin_$1.npy"
}
echo "$PROG: generation, $reps cold starts of each (after one untimed warm-up each)"
gen_cpp 0
gen_cpptorch 0
gen_cppdefault 0
gen_twin 0
for i in $(seq 1 "$reps"); do
  if [ $((i % 2)) = 1 ]; then
    gen_cpp "$i"; gen_cpptorch "$i"; gen_cppdefault "$i"; gen_twin "$i"
  else
    gen_twin "$i"; gen_cppdefault "$i"; gen_cpptorch "$i"; gen_cpp "$i"
  fi
done
# Batch generation: 10,000 samples of one label, written as bytes (cvae: IDX; twin: a uint8
# .npy), from a fresh process each time, so start-up counts too.
big=10000
gen_big() {
  case "$2" in
    cpp) run_timed "big_cpp_$1" "$CVAE" generate --model "$raw/cpp_1.cvae" --label "$label_name" \
           -n "$big" --rerank 1 --temperature 1 --threads "$threads" --format idx --out "$raw/big_cpp_$1" ;;
    cpptorch) run_timed "big_cpptorch_$1" build/bin/cvae-torch generate --model "$raw/cpp_1.cvae" \
           --label "$label_name" -n "$big" --rerank 1 --temperature 1 --threads "$threads" \
           --format idx --out "$raw/big_cpptorch_$1" ;;
    twin) run_timed "big_twin_$1" "$PY" bench/twin_generate.py --weights "$raw/twin_1.pt" --n "$big" \
           --label "$label_index" --threads "$threads" --uint8 --out "$raw/big_twin_$1.npy" ;;
  esac
}
echo "$PROG: batch generation, $big samples, $reps runs of each"
for i in $(seq 1 "$reps"); do
  if [ $((i % 2)) = 1 ]; then
    gen_big "$i" cpp; gen_big "$i" cpptorch; gen_big "$i" twin
  else
    gen_big "$i" twin; gen_big "$i" cpptorch; gen_big "$i" cpp
  fi
done
cmp -s "$raw/gen_cpp_1.png" "$raw/gen_cpptorch_1.png" ||
  echo "$PROG: WARNING: the launcher's and cvae-torch's images differ" >&2

mm after
bin_after="$(bin_id)"
[ "$bin_before" = "$bin_after" ] || echo "$PROG: WARNING: $CVAE changed during the run ($bin_before -> $bin_after)" >&2
load_after="$(cat /proc/loadavg)"
t_end=$(date +%s.%N)
echo "$PROG: load after: $load_after"

"$PY" bench/report.py --raw "$raw" --reps "$reps" --epochs "$epochs" --threads "$threads" --ftz "$ftz" \
  --binary-before "$bin_before" --binary-after "$bin_after" --source "$src_state" \
  --start "$t_begin" --end "$t_end" \
  --load-before "$load_before" --load-after "$load_after" --json "$out.json"
