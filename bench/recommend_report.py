"""The table of docs/recommend.md from scripts/bench-recommend.sh's eval JSON files.

usage: python3 bench/recommend_report.py DIR SEEDS
Prints a Markdown table: each method's figures as mean +- standard deviation over the seeds
(sample standard deviation, n - 1).
"""
import json
import statistics
import sys


def load(d, kind, s):
    with open(f"{d}/{kind}-{s}.json") as f:
        j = json.load(f)
    with open(f"{d}/{kind}-{s}.time.json") as f:
        t = json.load(f)
    j["train_seconds"] = t["train_ms"] / 1000 if "train_ms" in t else t["train_seconds"]
    return j


def cell(values):
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main():
    d, seeds = sys.argv[1], int(sys.argv[2])
    cond = [load(d, "conditional", s) for s in range(1, seeds + 1)]
    unc = [load(d, "unconditional", s) for s in range(1, seeds + 1)]
    overall = ["recall_20", "recall_50", "ndcg_100"]
    genre = ["genre_ndcg_100", "genre_precision_20"]
    # (name, runs, prefix, figures shown): the unconditional model never saw a genre label,
    # so its genre figures are its "any" scores kept to the genre.
    rows = [
        ("popularity (kept to the genre)", cond, "popularity.", overall + genre),
        ("EASE, lambda on the validation users (kept to the genre)", cond, "ease.",
         overall + genre),
        ("Mult-VAE, unconditional (--no-genre-rows)", unc, "", overall),
        ("  its 'any' kept to the genre", unc, "any_in_genre.", genre),
        ("cvae default: conditional, asked for the genre", cond, "", overall + genre),
        ("  its 'any' kept to the genre", cond, "any_in_genre.", genre),
    ]
    keys = overall + genre
    print(f"{seeds} split seeds; {int(cond[0]['users'])} test users, "
          f"{int(cond[0]['genre_pairs'])} (user, genre) pairs (seed 1)\n")
    print("| method | Recall@20 | Recall@50 | NDCG@100 | genre NDCG@100 | genre precision@20 |")
    print("|---|---|---|---|---|---|")
    for name, runs, prefix, shown in rows:
        cells = [cell([r[prefix + k] for r in runs]) if k in shown else "" for k in keys]
        print(f"| {name} | " + " | ".join(cells) + " |")
    lambdas = sorted({r["ease.lambda"] for r in cond})
    median = lambda runs: statistics.median(r["train_seconds"] for r in runs)
    print(f"\nEASE lambda chosen: {', '.join(str(int(x)) for x in lambdas)}; median training "
          f"seconds: conditional {median(cond):.0f}, unconditional {median(unc):.0f}")


if __name__ == "__main__":
    main()
