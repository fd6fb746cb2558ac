#!/usr/bin/python3
"""Train the PyTorch twin of cvae's MLP CVAE the way scripts/bench.sh runs `cvae train --arch mlp ...`, and time it.

Run with Debian's PyTorch (the same libtorch 1.13 + OpenBLAS that build/bin/cvae links):
  /usr/bin/python3 bench/twin_train.py --data data/fashion-mnist --epochs 2 --threads 2 \
      --out-json out/bench/twin.json --save-weights out/bench/twin.pt

What it mirrors of src/train/trainer.cpp (the options scripts/bench.sh passes, with --val-fraction 0):
  hidden 512,256, latent 8, Bernoulli likelihood on [0,1] pixels (x / 255), Adam lr 1e-3,
  batch 128, beta 1, no KL warm-up, no clipping; PyTorch's default Linear init (the same
  kaiming-uniform scheme as libtorch's torch::nn::Linear) after torch.manual_seed(seed);
  a seeded shuffle each epoch (numpy PCG64 here, std::mt19937_64 + std::shuffle there, so the
  orders differ), the last partial batch kept (469 steps for 60,000 images).
  Each step does what a C++ step does: index_select a batch of images and labels, one-hot
  (inside the twin's forward), randn eps from a seeded generator, forward, loss, loss.item()
  (the C++ finiteness check), zero_grad, backward, global gradient norm
  (clip_grad_norm_ with max_norm = inf, as C++ does when --grad-clip is 0) and its finiteness
  check, Adam step, and the two .item() calls of the C++ running sums.
  "seconds" is the time of that step loop only (time.perf_counter), the same scope as the C++
  metrics "seconds" (which starts after the epoch's permutation is built and excludes the
  validation pass and the model-file save).

After training: test -ELBO (one posterior sample per example, beta = 1, mean over all test
images, nats per example), written with the per-epoch times and peak RSS to --out-json.
"""
import argparse
import gzip
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from twin import CVAE  # noqa: E402  (tests/reference/twin.py)


def read_idx(path):
    """Reads an IDX file (.gz or raw) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError("%s: size does not match its header" % path)
    return arr.reshape(dims)


def find(data_dir, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(os.path.join(data_dir, stem + "[.gz]"))


def load_split(data_dir, split):
    """(x float32 (N,1,28,28) in [0,1], y int64 (N,)), as src/data/dataset.cpp makes them."""
    images = read_idx(find(data_dir, "%s-images-idx3-ubyte" % split))
    labels = read_idx(find(data_dir, "%s-labels-idx1-ubyte" % split))
    x = torch.from_numpy(images.copy()).to(torch.float32).div_(255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def test_neg_elbo(model, x, y, latent, seed, batch=256):
    """-ELBO, one posterior sample per example, beta = 1: mean over examples, nats per example."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    total = 0.0
    with torch.no_grad():
        for s in range(0, x.size(0), batch):
            xb, yb = x[s:s + batch], y[s:s + batch]
            eps = torch.randn(xb.size(0), latent, generator=gen)
            out = model(xb, yb, eps, 1.0)
            total += float((out["loss_recon"] + out["loss_kl"]).sum())
    return total / x.size(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out-json", required=True)
    ap.add_argument("--save-weights", default="", help="torch.save(state_dict) here after training")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    t_start = time.perf_counter()
    torch.set_num_threads(args.threads)
    hidden, latent, classes = [512, 256], 8, 10

    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    if not (float(x_train.min()) >= 0.0 and float(x_train.max()) <= 1.0):
        raise ValueError("pixels outside [0, 1]")
    features = int(np.prod(x_train.shape[1:]))
    t_loaded = time.perf_counter()

    torch.manual_seed(args.seed)  # parameter initialisation
    model = CVAE(features, classes, hidden, latent)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)  # eps
    shuffle_rng = np.random.default_rng(args.seed)

    n = x_train.size(0)
    bs = min(args.batch_size, n)
    steps = (n + bs - 1) // bs
    if not args.quiet:
        print("twin: training on %d examples of shape %s, %d labels; %d steps/epoch, %d threads"
              % (n, "x".join(map(str, x_train.shape[1:])), classes, steps, torch.get_num_threads()),
              file=sys.stderr)
    params = list(model.parameters())
    seconds, train_loss = [], []
    for epoch in range(1, args.epochs + 1):
        perm = torch.from_numpy(shuffle_rng.permutation(n).astype(np.int64))
        model.train()
        recon_sum = kl_sum = 0.0
        count = 0
        t0 = time.perf_counter()
        for b in range(steps):
            idx = perm[b * bs:min((b + 1) * bs, n)]
            x = x_train.index_select(0, idx)
            y = y_train.index_select(0, idx)
            eps = torch.randn(idx.size(0), latent, generator=gen)
            out = model(x, y, eps, 1.0)
            loss = out["loss"].item()
            if not math.isfinite(loss):
                raise FloatingPointError("non-finite loss at epoch %d step %d" % (epoch, b + 1))
            opt.zero_grad()
            out["loss"].backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, float("inf")))
            if not math.isfinite(grad_norm):
                raise FloatingPointError("non-finite gradient at epoch %d step %d" % (epoch, b + 1))
            opt.step()
            recon_sum += out["loss_recon"].sum().item()
            kl_sum += out["loss_kl"].sum().item()
            count += idx.size(0)
        dt = time.perf_counter() - t0
        seconds.append(dt)
        train_loss.append((recon_sum + kl_sum) / count)
        if not args.quiet:
            print("twin: epoch %d/%d  train %.2f (recon %.2f, kl %.2f)  %.2fs  %.0f ex/s"
                  % (epoch, args.epochs, train_loss[-1], recon_sum / count, kl_sum / count, dt, count / dt),
                  file=sys.stderr)
    t_trained = time.perf_counter()

    if args.save_weights:
        torch.save(model.state_dict(), args.save_weights)
    elbo = test_neg_elbo(model, x_test, y_test, latent, args.seed + 1)
    t_end = time.perf_counter()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes
    result = {
        "seconds_per_epoch": seconds,
        "test_neg_elbo": elbo,
        "peak_rss_mb": rss_mb,
        "train_loss_per_epoch": train_loss,
        "steps_per_epoch": steps,
        "train_examples": n,
        "test_examples": x_test.size(0),
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "torch_file": torch.__file__,
        "adam_foreach": opt.defaults.get("foreach"),
        "load_seconds": t_loaded - t_start,
        "eval_seconds": t_end - t_trained,
        "process_seconds_after_import": t_end - t_start,
    }
    with open(args.out_json, "w") as f:
        json.dump(result, f, indent=1)
    if not args.quiet:
        print("twin: test -ELBO %.3f nats, peak RSS %.0f MB; wrote %s" % (elbo, rss_mb, args.out_json),
              file=sys.stderr)


if __name__ == "__main__":
    main()
