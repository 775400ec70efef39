"""Sample efficiency: simple regret of GPOptimizer vs random, skopt.gp_minimize and Optuna TPE.

Run ``python -m benchmarks.bench_sample_efficiency`` (about 25 minutes on 2
cores: 20 seeds, 8 for the slow ``skopt.gp_minimize``) or ``--quick`` for a smoke
run. Methods: ``gp`` (GPOptimizer), ``gp-raw`` and ``gp-warp`` (its output warp
off / always on; shown, not ranked), ``skopt``, ``tpe``, ``random``. For each problem and budget it prints
the median and quartiles of simple regret (best value found minus the known
optimum) over the seeds, and a verdict: ours is "best" when its median is the
lowest, "not worse" when a one-sided Mann-Whitney U test of "ours has larger
regret than the method with the lowest median" gives p >= 0.05, "WORSE" otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats

from benchmarks._problems import PROBLEMS, RUNNERS

METHODS = ("gp", "skopt", "tpe", "random")


def _init_worker() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _task(args: tuple[str, str, int, int]) -> tuple[str, str, int, list[float], float]:
    method, problem, seed, budget = args
    pb = PROBLEMS[problem]
    t0 = time.perf_counter()
    values = RUNNERS[method](pb, budget, seed)
    return method, problem, seed, values, time.perf_counter() - t0


def _regret(values: list[float], budget: int, optimum: float) -> float:
    return max(float(np.min(values[:budget])) - optimum, 0.0)


def _fmt(x: float) -> str:
    return f"{x:.2e}" if x < 0.01 else f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 seeds, budget 12")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--skopt-seeds", type=int, default=8,
                    help="seeds for skopt.gp_minimize (about 50 CPU seconds a run)")
    ap.add_argument("--budgets", default="25,50,100")
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", default=None, help="write raw values to this file")
    args = ap.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    seeds = args.seeds
    if args.quick:
        budgets, seeds = [6, 12], 2
    skopt_seeds = min(args.skopt_seeds, seeds)
    methods = [m for m in args.methods.split(",") if m]
    problems = [p for p in args.problems.split(",") if p]
    for name in methods:
        if name not in RUNNERS:
            ap.error(f"--methods: unknown method {name!r}")
    for name in problems:
        if name not in PROBLEMS:
            ap.error(f"--problems: unknown problem {name!r}")
    top = max(budgets)
    tasks = [(m, p, s, top) for s in range(seeds) for p in problems for m in methods
             if not (m == "skopt" and s >= skopt_seeds)]
    # Slow tasks first, so the pool ends together.
    tasks.sort(key=lambda t: {"skopt": 0}.get(t[0], 1 if t[0].startswith("gp") else 2))
    results: dict[tuple[str, str], dict[int, list[float]]] = {}
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
            done = list(pool.map(_task, tasks))
    else:
        done = [_task(t) for t in tasks]
    for method, problem, seed, values, secs in done:
        results.setdefault((method, problem), {})[seed] = values
        seconds[method] = seconds.get(method, 0.0) + secs
    wall = time.perf_counter() - t0

    print(f"Simple regret (median [q1, q3]) over {seeds} seeds "
          f"(skopt.gp_minimize: {skopt_seeds} seeds); wall {wall:.0f} s")
    header = f"{'problem':<10} {'budget':>6} " + " ".join(f"{m:>28}" for m in methods)
    print(header + f" {'verdict (ours vs best)':>30}")
    verdicts = []
    for problem in problems:
        opt = PROBLEMS[problem].optimum
        for b in budgets:
            regs = {m: np.array([_regret(v, b, opt) for v in results[(m, problem)].values()])
                    for m in methods}
            cells = []
            for m in methods:
                q1, med, q3 = np.percentile(regs[m], [25, 50, 75])
                cells.append(f"{_fmt(med)} [{_fmt(q1)}, {_fmt(q3)}]")
            verdict = ""
            if "gp" in regs:
                # Variants of ours (gp-warp, gp-raw) are shown, not competitors.
                meds = {m: float(np.median(r)) for m, r in regs.items()
                        if m == "gp" or not m.startswith("gp")}
                best = min(meds, key=lambda m: (meds[m], m != "gp"))
                if best == "gp":
                    verdict = "best"
                else:
                    p = stats.mannwhitneyu(regs["gp"], regs[best], alternative="greater").pvalue
                    verdict = f"{'not worse' if p >= 0.05 else 'WORSE'} than {best} (p={p:.3f})"
                verdicts.append((problem, b, verdict))
            print(f"{problem:<10} {b:>6} " + " ".join(f"{c:>28}" for c in cells) + f" {verdict:>30}")
    if "branin" in problems and "gp" in methods:
        vals = [min(v[:40]) for v in results[("gp", "branin")].values()]
        print(f"branin: median best value of GPOptimizer within 40 evaluations = "
              f"{np.median(vals):.6f} (target <= 0.40)")
    print("CPU seconds per run (mean): " + ", ".join(
        f"{m} {seconds[m] / max(1, len([t for t in tasks if t[0] == m])):.1f}" for m in methods))
    if args.json:
        raw = {f"{m}/{p}": {str(s): v for s, v in d.items()} for (m, p), d in results.items()}
        with open(args.json, "w") as fh:
            json.dump({"budgets": budgets, "values": raw}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
