#!/usr/bin/python3
"""Rate of a large single-precision matrix product on T threads, with the libtorch that cvae uses.

  /usr/bin/python3 bench/matmul_peak.py --threads 2 [--n 2048 --reps 7] [--json F]

torch.mm here is Debian's libtorch 1.13 (/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13), which calls
the same OpenBLAS sgemm (libblas.so.3 -> openblas-openmp) as build/bin/cvae; Python adds a few
microseconds per call, nothing next to a 2048^3 product. Method: torch.set_num_threads(T),
two warm-up products, then the median of --reps timed products (time.perf_counter);
GFLOP/s = 2 n^3 / t. OPENBLAS_CORETYPE and the like are left as the environment has them.

Also times, as a floor for one training step, just the matrix products of one step of the
default model at batch 128 (each Linear's forward addmm and its backward grad-weight and
grad-input products, without the grad-input of the encoder's first layer, whose input needs no
gradient), as the same torch.addmm/torch.mm calls autograd makes: "gemm_seconds_per_step".
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch


def median_time(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), ts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    n = args.n
    a, b = torch.randn(n, n), torch.randn(n, n)
    c = torch.empty(n, n)
    t, ts = median_time(lambda: torch.mm(a, b, out=c), args.reps)
    gflops = 2.0 * n ** 3 / t / 1e9

    # The products of one training step of the default model (hidden 512,256, latent 8, 10 labels).
    B = args.batch
    layers = [(794, 512, False), (512, 256, True), (256, 8, True), (256, 8, True),  # encoder (+ two heads)
              (18, 256, True), (256, 512, True), (512, 784, True)]                  # decoder
    ops = []
    for fin, fout, need_grad_input in layers:
        x, w, bias, g = torch.randn(B, fin), torch.randn(fout, fin), torch.randn(fout), torch.randn(B, fout)
        ops.append((lambda x=x, w=w, bias=bias: torch.addmm(bias, x, w.t())))   # forward, as F.linear
        ops.append((lambda x=x, g=g: torch.mm(g.t(), x)))                        # grad weight
        if need_grad_input:
            ops.append((lambda w=w, g=g: torch.mm(g, w)))                        # grad input

    def step():
        for op in ops:
            op()

    inner = 50
    t_step, _ = median_time(lambda: [step() for _ in range(inner)], args.reps)
    t_step /= inner
    flops_step = sum(2.0 * B * fin * fout * (3 if ng else 2) for fin, fout, ng in layers)

    result = {
        "what": "torch.mm float32 %dx%d @ %dx%d, median of %d after 2 warm-ups" % (n, n, n, n, args.reps),
        "library": "torch %s from %s: Debian libtorch 1.13 + OpenBLAS sgemm, the same libraries "
                   "build/bin/cvae links" % (torch.__version__, os.path.dirname(torch.__file__)),
        "threads": torch.get_num_threads(),
        "n": n,
        "seconds": t,
        "seconds_all": ts,
        "gflops": gflops,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "gemm_batch": B,
        "gemm_seconds_per_step": t_step,
        "gemm_flops_per_step": flops_step,
        "gemm_gflops_model_shapes": flops_step / t_step / 1e9,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    print("matmul peak: %.1f GFLOP/s (%s, %d threads; %s)" % (gflops, result["what"], result["threads"],
                                                              result["library"]), file=sys.stderr)
    print("model-shaped GEMMs of one step at batch %d: %.2f ms, %.1f GFLOP/s"
          % (B, t_step * 1e3, result["gemm_gflops_model_shapes"]), file=sys.stderr)


if __name__ == "__main__":
    main()
