#!/usr/bin/python3
"""Summarises the raw outputs of scripts/bench.sh: prints the table, writes out/bench.json."""
import argparse
import glob
import json
import os
import re
import statistics
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")

# Forward FLOPs per example of the default model: 2 * sum(in * out) over its Linear layers.
ENCODER = [(784 + 10, 512), (512, 256), (256, 2 * 8)]  # the two heads (256 -> 8 each) as one
DECODER = [(8 + 10, 256), (256, 512), (512, 784)]
FWD_FLOPS = 2 * sum(a * b for a, b in ENCODER + DECODER)  # 2,157,568
# Backward does about two forwards' worth (grad input + grad weight), so training ~ 3x forward.
# Exactly: the encoder's first layer needs no grad input, 2 * 794 * 512 fewer per example.
TRAIN_FLOPS = 3 * FWD_FLOPS
TRAIN_FLOPS_EXACT = 3 * FWD_FLOPS - 2 * ENCODER[0][0] * ENCODER[0][1]


def parse_time_v(path):
    """GNU time -v output -> dict of the fields used here."""
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().rpartition(": ")
            if k == "Maximum resident set size (kbytes)":
                out["peak_rss_mb"] = int(v) / 1024.0
            elif k.startswith("Elapsed (wall clock) time"):
                parts = [float(p) for p in v.split(":")]
                s = 0.0
                for p in parts:
                    s = s * 60 + p
                out["wall_seconds"] = s
            elif k == "User time (seconds)":
                out["user_seconds"] = float(v)
            elif k == "System time (seconds)":
                out["sys_seconds"] = float(v)
            elif k == "Percent of CPU this job got":
                out["cpu_percent"] = float(v.rstrip("%"))
            elif k == "Involuntary context switches":
                out["involuntary_switches"] = int(v)
    return out


def parse_sys(path, own_cpu_seconds, wall):
    """Machine-wide CPU use around one run: how many cores others kept busy, and steal."""
    vals = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.strip().partition(" ")
            vals[key] = rest
    out = {"load_before": vals.get("load_before", ""), "load_after": vals.get("load_after", "")}
    if "stat_before" in vals and "stat_after" in vals and wall > 0:
        b = [int(x) for x in vals["stat_before"].split()[1:]]
        a = [int(x) for x in vals["stat_after"].split()[1:]]
        d = [y - x for x, y in zip(b, a)]
        # user nice system idle iowait irq softirq steal guest guest_nice
        busy = (d[0] + d[1] + d[2] + d[5] + d[6]) / CLK_TCK
        out["machine_busy_cores"] = busy / wall
        out["other_busy_cores"] = max(0.0, busy - own_cpu_seconds) / wall
        out["steal_cores"] = (d[7] if len(d) > 7 else 0) / CLK_TCK / wall
    if "psi_before" in vals and "psi_after" in vals and wall > 0:
        # /proc/pressure/cpu "some ... total=US": time in which some runnable task waited for a CPU
        tb = int(re.search(r"total=(\d+)", vals["psi_before"]).group(1))
        ta = int(re.search(r"total=(\d+)", vals["psi_after"]).group(1))
        out["psi_cpu_some"] = (ta - tb) / 1e6 / wall
    return out


def stats(xs):
    if not xs:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def run_info(raw, name):
    t = parse_time_v(os.path.join(raw, name + ".time"))
    own = t.get("user_seconds", 0.0) + t.get("sys_seconds", 0.0)
    t.update(parse_sys(os.path.join(raw, name + ".sys"), own, t.get("wall_seconds", 0.0)))
    return t


def fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--reps", type=int, required=True)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--ftz", type=int, default=0)
    ap.add_argument("--binary-before", default="")
    ap.add_argument("--binary-after", default="")
    ap.add_argument("--source", default="")
    ap.add_argument("--start", type=float, required=True)
    ap.add_argument("--end", type=float, required=True)
    ap.add_argument("--load-before", default="")
    ap.add_argument("--load-after", default="")
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    raw, E = args.raw, args.epochs
    skip = 1 if E > 1 else 0

    runs = {"cpp": [], "cpp_autograd": [], "twin": []}
    for i in range(1, args.reps + 1):
        for side in ("cpp", "cpp_autograd"):
            if not os.path.exists(os.path.join(raw, "%s_train_%d.time" % (side, i))):
                continue
            info = run_info(raw, "%s_train_%d" % (side, i))
            with open(os.path.join(raw, "%s_%d.metrics.jsonl" % (side, i))) as f:
                lines = [json.loads(l) for l in f if l.strip()]
            info["seconds_per_epoch"] = [l["seconds"] for l in lines]
            info["train_loss_per_epoch"] = [l["train_loss"] for l in lines]
            with open(os.path.join(raw, "%s_%d.eval.json" % (side, i))) as f:
                info["test_neg_elbo"] = json.load(f)["neg_elbo"]
            runs[side].append(info)

        info = run_info(raw, "twin_train_%d" % i)
        with open(os.path.join(raw, "twin_%d.json" % i)) as f:
            tj = json.load(f)
        info.update({k: tj[k] for k in ("seconds_per_epoch", "train_loss_per_epoch", "test_neg_elbo")})
        info["peak_rss_mb_getrusage"] = tj["peak_rss_mb"]
        info["twin_details"] = {k: v for k, v in tj.items() if k not in info}
        runs["twin"].append(info)

    summary = {}
    for side in ("cpp", "cpp_autograd", "twin"):
        if not runs[side]:
            continue
        kept = [s for r in runs[side] for s in r["seconds_per_epoch"][skip:]]
        first = [r["seconds_per_epoch"][0] for r in runs[side]]
        st = stats(kept)
        summary[side] = {
            "seconds_per_epoch": st,
            "first_epoch_seconds": stats(first),
            "test_neg_elbo": stats([r["test_neg_elbo"] for r in runs[side]]),
            "train_peak_rss_mb": stats([r["peak_rss_mb"] for r in runs[side]]),
            "train_process_wall_seconds": stats([r["wall_seconds"] for r in runs[side]]),
            "gflops_3x": TRAIN_FLOPS * 60000 / st["median"] / 1e9 if st["median"] else None,
            "gflops_exact": TRAIN_FLOPS_EXACT * 60000 / st["median"] / 1e9 if st["median"] else None,
        }

    gen = {"cpp": [], "cpptorch": [], "cppdefault": [], "twin": []}
    gen_summary = {}
    for side in gen:
        for i in range(0, args.reps + 1):
            name = "gen_%s_%d" % (side, i)
            if os.path.exists(os.path.join(raw, name + ".time")):
                g = run_info(raw, name)
                g["warmup"] = i == 0
                gen[side].append(g)
        timed = [g for g in gen[side] if not g["warmup"]]
        gen_summary[side] = {"generate_wall_seconds": stats([g["wall_seconds"] for g in timed]),
                             "generate_peak_rss_mb": stats([g["peak_rss_mb"] for g in timed])}
        if side in summary:
            summary[side].update(gen_summary[side])

    big = {}
    for side in ("cpp", "cpptorch", "twin"):
        walls = [run_info(raw, "big_%s_%d" % (side, i))["wall_seconds"] for i in range(1, args.reps + 1)
                 if os.path.exists(os.path.join(raw, "big_%s_%d.time" % (side, i)))]
        if walls:
            st = stats(walls)
            cold = gen_summary.get(side, {}).get("generate_wall_seconds", {}).get("median")
            big[side] = {"samples": 10000, "wall_seconds": st,
                         "samples_per_second": 10000 / st["median"],
                         # the cost of the extra 9,936 samples over the 64-sample cold start
                         "marginal_samples_per_second": (10000 - 64) / (st["median"] - cold)
                         if cold is not None and st["median"] > cold else None}

    mm, sg = {}, {}
    for when in ("before", "after"):
        p = os.path.join(raw, "matmul_%s.json" % when)
        if os.path.exists(p):
            with open(p) as f:
                mm[when] = json.load(f)
        p = os.path.join(raw, "sgemm_%s.json" % when)
        if os.path.exists(p):
            with open(p) as f:
                sg[when] = json.load(f)
    # The machine's practical limit: the fastest large product measured, through torch
    # (OpenBLAS) or straight from OpenBLAS or oneDNN (the library cvae's step uses).
    peaks = [(m["gflops"], "torch.mm (%s)" % when) for when, m in mm.items()]
    peaks += [(p["gflops"], "%s (%s)" % (p["library"], when)) for when, sj in sg.items() for p in sj["peaks"]]
    peak, peak_what = max(peaks, default=(None, None))

    c, t = summary["cpp"], summary["twin"]
    ratio = c["seconds_per_epoch"]["median"] / t["seconds_per_epoch"]["median"]
    gen_ratio = c["generate_wall_seconds"]["median"] / t["generate_wall_seconds"]["median"]
    wall = args.end - args.start
    result = {
        "config": {"reps": args.reps, "epochs": E, "threads": args.threads, "warmup_epochs_excluded": skip,
                   "ftz_daz_preloaded_for_training": bool(args.ftz),
                   "data": "data/fashion-mnist (60,000 train, 10,000 test)", "batch": 128,
                   "hidden": [512, 256], "latent": 8,
                   "fwd_flops_per_example": FWD_FLOPS, "train_flops_per_example_3x": TRAIN_FLOPS,
                   "train_flops_per_example_exact": TRAIN_FLOPS_EXACT},
        "summary": summary,
        "ratio_cpp_over_twin_seconds_per_epoch": ratio,
        "ratio_cpp_over_twin_generate": gen_ratio,
        "generate": gen_summary,
        "generate_batch": big,
        "matmul": mm,
        "sgemm": sg,
        "matmul_peak_gflops": peak,
        "matmul_peak_from": peak_what,
        "cpp_fraction_of_peak": c["gflops_3x"] / peak if peak else None,
        "runs": runs,
        "generate_runs": gen,
        "wall_seconds": wall,
        "cvae_binary_before": args.binary_before,
        "cvae_binary_after": args.binary_after,
        "source": args.source,
        "load_before": args.load_before,
        "load_after": args.load_after,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)

    n_kept = c["seconds_per_epoch"]["n"]
    note = ("epoch 1 of each run left out as warm-up" if skip else "every epoch counted (E = 1)")
    print()
    print("cvae (C++/libtorch) vs PyTorch twin: Fashion-MNIST 60,000 train, batch 128, hidden 512,256, "
          "latent 8, %d threads" % args.threads)
    print("%d runs x %d epochs each side, alternating; %s (%d epochs per side)" % (args.reps, E, note, n_kept))
    print("build/bin/cvae: %s; source: %s" % (args.binary_before, args.source))
    if args.binary_before != args.binary_after:
        print("WARNING: build/bin/cvae changed during the run (now %s): the C++ runs may mix two builds"
              % args.binary_after)
    if args.ftz:
        print("DIAGNOSTIC MODE (--ftz): both sides trained with flush-to-zero/denormals-are-zero preloaded")
    print()
    rows = [
        ("training s/epoch, median", "seconds_per_epoch", "median", ".2f"),
        ("training s/epoch, min", "seconds_per_epoch", "min", ".2f"),
        ("training s/epoch, max", "seconds_per_epoch", "max", ".2f"),
        ("first epoch s, median", "first_epoch_seconds", "median", ".2f"),
        ("train process wall s, median", "train_process_wall_seconds", "median", ".2f"),
        ("test -ELBO nats, median", "test_neg_elbo", "median", ".2f"),
        ("test -ELBO nats, min", "test_neg_elbo", "min", ".2f"),
        ("test -ELBO nats, max", "test_neg_elbo", "max", ".2f"),
        ("train peak RSS MB, median", "train_peak_rss_mb", "median", ".0f"),
        ("generate -n 64 cold start s, median", "generate_wall_seconds", "median", ".3f"),
        ("generate cold start s, min", "generate_wall_seconds", "min", ".3f"),
        ("generate cold start s, max", "generate_wall_seconds", "max", ".3f"),
        ("generate peak RSS MB, median", "generate_peak_rss_mb", "median", ".0f"),
    ]
    w = 38
    print("%-*s %12s %12s %10s" % (w, "", "C++", "twin", "C++/twin"))
    for label, key, stat, spec in rows:
        a, b = c[key][stat], t[key][stat]
        r = a / b if (a is not None and b) else None
        print("%-*s %12s %12s %10s" % (w, label, fmt(a, spec), fmt(b, spec), fmt(r, ".3f")))
    print("%-*s %12s %12s %10s" % (w, "achieved GFLOP/s (3x fwd, median)", fmt(c["gflops_3x"], ".1f"),
                                   fmt(t["gflops_3x"], ".1f"), fmt(c["gflops_3x"] / t["gflops_3x"], ".3f")))
    print("%-*s %12s %12s" % (w, "  (exact count, median)", fmt(c["gflops_exact"], ".1f"), fmt(t["gflops_exact"], ".1f")))
    a = summary.get("cpp_autograd")
    if a:
        print()
        print("C++ with --engine autograd (libtorch autograd + the same flat Adam), same runs interleaved:")
        for label, key, stat, spec in rows[:9]:
            v = a[key][stat]
            print("%-*s %12s %12s %10s" % (w, "  " + label, fmt(v, spec), fmt(t[key][stat], spec),
                                           fmt(v / t[key][stat] if t[key][stat] else None, ".3f")))
        print("%-*s %12s" % (w, "  achieved GFLOP/s (3x fwd, median)", fmt(a["gflops_3x"], ".1f")))
    print()
    print("generation, 64 samples of one label from a fresh process (median s; peak RSS MB; vs twin):")
    tg = gen_summary["twin"]["generate_wall_seconds"]["median"]
    for side, what in (("cpp", "cvae generate --rerank 1 --temperature 1 (launcher, no libtorch)"),
                       ("cpptorch", "cvae-torch generate, the same options (libtorch loaded)"),
                       ("cppdefault", "cvae generate, default sampler (16 candidates, T 1.4)"),
                       ("twin", "twin: decode 64 draws from N(0, I)")):
        g = gen_summary.get(side)
        if not g or not g["generate_wall_seconds"]["n"]:
            continue
        m = g["generate_wall_seconds"]["median"]
        print("  %-66s %6s s  %5s MB  %s" % (what, fmt(m, ".3f"), fmt(g["generate_peak_rss_mb"]["median"], ".0f"),
                                             fmt(m / tg if tg else None, ".3f")))
    lite = gen_summary.get("cpp", {}).get("generate_peak_rss_mb", {}).get("median")
    if lite is not None and lite > 150:
        print("  WARNING: the launcher's peak RSS (%.0f MB) says it loaded libtorch: it handed the request "
              "to cvae-torch (a model file without raw weights?)" % lite)
    if big:
        print()
        print("batch generation, 10,000 samples of one label as bytes, fresh process (median wall s; samples/s "
              "including start-up; samples/s beyond the 64-sample PNG cold start):")
        for side, what in (("cpp", "cvae generate --rerank 1 --format idx (launcher, no libtorch)"),
                           ("cpptorch", "cvae-torch generate, the same options"),
                           ("twin", "twin, uint8 .npy")):
            b = big.get(side)
            if b:
                print("  %-66s %6s s  %8s/s  %8s/s" % (what, fmt(b["wall_seconds"]["median"], ".3f"),
                                                       fmt(b["samples_per_second"], ".0f"),
                                                       fmt(b["marginal_samples_per_second"], ".0f")))
    print()
    for when, m in mm.items():
        print("matmul peak (%s): %.1f GFLOP/s; %s; %s" % (when, m["gflops"], m["what"], m["library"]))
        print("  the model's own GEMMs of one step at batch %d: %.2f ms (%.1f GFLOP/s) -> %.2f s per "
              "469-step epoch if nothing else ran" % (m["gemm_batch"], m["gemm_seconds_per_step"] * 1e3,
                                                      m["gemm_gflops_model_shapes"], m["gemm_seconds_per_step"] * 469))
    for when, sj in sg.items():
        for p in sj["peaks"]:
            print("sgemm peak (%s): %.1f GFLOP/s; %s, %dx%d float32, %d threads"
                  % (when, p["gflops"], p["library"], sj["n"], sj["n"], sj["threads"]))
        print("  the fused step's GEMMs (%s, per-thread shares, much as the step makes them): %.2f ms (%.1f GFLOP/s) "
              "-> %.2f s per 469-step epoch" % (sj["step_library"], sj["gemm_seconds_per_step"] * 1e3,
                                                sj["gemm_gflops_model_shapes"], sj["gemm_seconds_per_step"] * 469))
    if peak:
        print("C++ achieved / matmul peak: %.1f / %.1f GFLOP/s = %.0f%%  (twin: %.0f%%; peak from %s)"
              % (c["gflops_3x"], peak, 100 * c["gflops_3x"] / peak, 100 * t["gflops_3x"] / peak, peak_what))
    print()
    print("per run: s/epoch; test -ELBO; CPU%% of the process (of %d%% for %d threads); cores other processes kept busy "
          "meanwhile; share of the time some task waited for a CPU (PSI); steal; load before"
          % (100 * args.threads, args.threads))
    for side in ("cpp", "cpp_autograd", "twin"):
        for i, r in enumerate(runs[side], 1):
            print("  %-12s %d: %-24s -ELBO %7.2f  cpu %4.0f%%  others %.2f cores  cpu-wait %4s  steal %.2f  load %s"
                  % (side, i, " ".join("%.2f" % s for s in r["seconds_per_epoch"]), r["test_neg_elbo"],
                     r.get("cpu_percent", 0), r.get("other_busy_cores", 0), fmt(100 * r["psi_cpu_some"] if "psi_cpu_some" in r else None, ".0f") + "%",
                     r.get("steal_cores", 0),
                     r.get("load_before", "").split(" ")[0]))
    print()
    print("wall time of the whole benchmark: %.0f s; load average before: %s; after: %s"
          % (wall, args.load_before, args.load_after))
    print("raw numbers: %s (run outputs in %s)" % (args.json, raw))


if __name__ == "__main__":
    main()
