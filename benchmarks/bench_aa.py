"""A/A check of the sample-efficiency table: one method against itself on other seeds.

``python -m benchmarks.bench_aa --method gp --seeds 20`` runs hpstudy's GP on seeds
0 to 19 of every problem (or reads runs saved by ``bench_sample_efficiency --json``
with ``--load F1,F2,...``: a later file's seeds of a problem are added to an earlier
one's) and tests, on each row of the table, the first half of the seeds against the
second half in both directions, with the table's one-sided Mann-Whitney test. The two
halves are the same method, so every test below 0.05 is a false alarm: the count
calibrates the row verdicts of :mod:`benchmarks.bench_sample_efficiency`, and the rows
where it happens show where 10 seeds are too few to tell methods apart.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from scipy import stats

from benchmarks import bench_sample_efficiency as bench
from benchmarks._suite import SUITE

#: How often the one-sided Mann-Whitney test over 10 against 10 seeds falls below 0.05 when
#: both samples come from one method (exact, by enumeration: tests/test_gp_bench_tables.py).
SIZE_10 = 0.0446


def split_rows(runs: dict[str, bench.RunSet],
               budgets: list[int], half: int) -> list[tuple[str, int, float, float, float, float]]:
    """Rows ``(problem, budget, median A, median B, p(B lower), p(B higher))``.

    ``runs`` maps each problem to its runs by seed; A is the first ``half`` seeds in
    order, B the next ``half``.
    """
    rows = []
    for problem, by_seed in runs.items():
        seeds = sorted(by_seed)
        if len(seeds) < 2 * half:
            raise SystemExit(f"{problem}: {len(seeds)} seeds, need {2 * half}")
        opt = SUITE[problem].optimum
        for b in budgets:
            def regrets(chosen: list[int], b: int = b, opt: float = opt,
                        by_seed: dict = by_seed) -> np.ndarray:
                return np.array([bench.regret(*by_seed[s], b, opt) for s in chosen])
            a, c = regrets(seeds[:half]), regrets(seeds[half:2 * half])
            rows.append((problem, b, float(np.median(a)), float(np.median(c)),
                         float(stats.mannwhitneyu(c, a, alternative="less").pvalue),
                         float(stats.mannwhitneyu(c, a, alternative="greater").pvalue)))
    return rows


def _load(paths: list[str], method: str) -> dict[str, bench.RunSet]:
    runs: dict[str, bench.RunSet] = {}
    for path in paths:
        with open(path) as fh:
            raw = json.load(fh)
        for key, by_seed in raw["values"].items():
            m, problem = key.split("/", 1)
            if m == method:
                runs.setdefault(problem, {}).update(
                    {int(s): (v[0], v[1]) for s, v in by_seed.items()})
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 4 seeds, budgets 6 and 12")
    ap.add_argument("--method", default="gp")
    ap.add_argument("--seeds", type=int, default=20, help="seeds in all (two halves)")
    ap.add_argument("--budgets", default="25,50,100")
    ap.add_argument("--problems", default=",".join(bench.DEFAULT_PROBLEMS))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--load", default=None, help="comma-separated --json files instead of running")
    args = ap.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    seeds, problems = args.seeds, args.problems
    if args.quick:
        budgets, seeds, problems = [6, 12], 4, "ackley5"
    if seeds < 2 or seeds % 2:
        ap.error(f"--seeds: must be an even number >= 2 (got {seeds})")
    if args.load:
        loaded = _load(args.load.split(","), args.method)
        runs = {p: loaded[p] for p in problems.split(",") if p in loaded}
    else:
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            bench.main(["--problems", problems, "--budgets", ",".join(map(str, budgets)),
                        "--seeds", str(seeds), "--methods", args.method,
                        "--workers", str(args.workers), "--json", tmp.name])
            runs = _load([tmp.name], args.method)
    half = seeds // 2
    rows = split_rows(runs, budgets, half)
    print(f"\nA/A: {args.method}, seeds 0-{half - 1} (A) against {half}-{2 * half - 1} (B), "
          "one-sided Mann-Whitney")
    print(f"{'problem':<18} {'budget':>6} {'A':>9} {'B':>9} {'p(B lower)':>11} {'p(B higher)':>12}")
    alarms = 0
    for problem, b, ma, mb, lower, higher in rows:
        flag = "  <- false alarm" if min(lower, higher) < 0.05 else ""
        alarms += (lower < 0.05) + (higher < 0.05)
        print(f"{problem:<18} {b:>6} {bench._fmt(ma):>9} {bench._fmt(mb):>9} "
              f"{lower:>11.3f} {higher:>12.3f}{flag}")
    line = f"{alarms} of {2 * len(rows)} one-sided tests below 0.05"
    if half == 10:  # the exact size of the test over 10 against 10 seeds: 4.46 %
        line += f" (by chance, without ties: {SIZE_10 * 2 * len(rows):.1f} expected)"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
