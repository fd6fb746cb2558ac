#!/usr/bin/python3
"""Generation twin of `cvae generate --model M --label 3 -n 64 --out x.png`, for cold-start timing.

  /usr/bin/python3 bench/twin_generate.py --weights out/bench/twin.pt --n 64 --out x.npy

A fresh process: import torch, build the twin CVAE (hidden 512,256, latent 8, 784 pixels,
10 labels), load the state_dict written by bench/twin_train.py --save-weights, draw
z ~ N(0, I) for --n samples of one label, and save sigmoid(decoder logits) (the Bernoulli
means, what `cvae generate` shows without --sample-pixels) as a float32 .npy of shape
(n, 1, 28, 28). It is timed from outside as a whole process (scripts/bench.sh), so import
and load time count, as they do for the C++ binary. It writes .npy, not a PNG grid: the
C++ side's PNG encoding of 64 28x28 images is a small extra cost on its side.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from twin import CVAE  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--label", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--uint8", action="store_true",
                    help="save round(255 x) as uint8 (what cvae writes to IDX) instead of float32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    hidden, latent, classes, shape = [512, 256], 8, 10, (1, 28, 28)
    model = CVAE(int(np.prod(shape)), classes, hidden, latent)
    model.load_state_dict(torch.load(args.weights))
    model.eval()
    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        z = torch.randn(args.n, latent, generator=gen)
        c = torch.nn.functional.one_hot(torch.full((args.n,), args.label, dtype=torch.int64), classes).float()
        x = torch.sigmoid(model.decoder(z, c)).reshape(args.n, *shape)
    if args.uint8:
        x = (x * 255.0).round().clamp(0, 255).to(torch.uint8)
    np.save(args.out, x.numpy())


if __name__ == "__main__":
    main()
