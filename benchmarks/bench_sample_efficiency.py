"""Sample efficiency: simple regret of GPOptimizer against its peers, problems x budgets.

Run ``python -m benchmarks.bench_sample_efficiency`` for the full suite, or
``--quick`` for a smoke run (seconds). ``--problems``, ``--budgets``,
``--seeds``, ``--methods`` and ``--workers`` narrow or widen it. Methods:

- ``gp``: hpstudy's GPOptimizer (the reference every p-value is against);
  ``gp-raw`` / ``gp-warp``: its output warp off / always on (shown, not ranked);
- ``gpsampler``: Optuna's GPSampler (needs torch); ``tpe`` and ``tpe-mv``:
  Optuna's TPE, independent and multivariate; ``skopt``: ``skopt.gp_minimize``;
  ``smac-bb`` / ``smac-hpo``: SMAC3's BlackBox (GP) and HPO (random forest)
  facades, each run in a python of its own whose ``PYTHONHASHSEED`` is the seed (SMAC3
  follows the order of sets of strings: without it a seed does not reproduce a run);
  ``hebo``: HEBO, in its own virtual environment (``HPSTUDY_HEBO_PYTHON``); ``random``.

A peer that cannot run here (package missing) is left out with the reason
printed, unless ``HPSTUDY_REQUIRE_PEERS`` is set (``make bench`` sets it and
installs the ``peers`` extra): then it is an error. Each cell is the median simple regret over the seeds (noisy problems:
the noiseless regret of the point with the best observed value), and for each
peer the one-sided Mann-Whitney U p-value of "the peer's regret is lower than
ours". The verdict is "best" when our median is the lowest, "tied" when no
peer is significantly better (every p >= 0.05), else "BEHIND" with the peers
that are. The last lines give each method's mean wall seconds per run.

``--json F`` saves the runs; ``--load F1,F2,...`` prints the table from saved
files instead of running, merging the seeds of runs of the same length (so
``--first-seed 10 --seeds 10`` adds seeds 10 to 19 to a 10-seed table; with
``--seeds 20 --min-seeds 10`` a slow peer may keep 10). Every method is run once
at the largest budget and read at the smaller ones, except where a file holds
runs made for a smaller budget: each budget reads the shortest runs that reached
it (SMAC3 plans its initial design from the budget it is given, so it is run once
per budget).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple

import numpy as np
from scipy import stats

from benchmarks._peers import RUNNERS_ALL, available
from benchmarks._suite import SUITE, instance

METHODS = ("gp", "gpsampler", "tpe", "tpe-mv", "skopt", "smac-bb", "smac-hpo", "hebo", "random")
#: The default suite (the held-out problems of issue 10 are not in it).
DEFAULT_PROBLEMS = ("nas201_cifar100", "nas201_imagenet", "catcont6", "mixed8", "ackley5",
                    "rastrigin4", "schwefel3", "michalewicz5", "styblinski8", "hartmann6_noisy",
                    "ackley5_noisy", "styblinski8_noisy", "hpolib_parkinsons", "hpolib_protein")
#: Peers that `make bench` installs: missing ones are an error when HPSTUDY_REQUIRE_PEERS is set.
REQUIRED = ("gpsampler", "smac-bb", "smac-hpo", "skopt", "tpe", "tpe-mv")
QUICK_PROBLEMS = ("nas201_cifar100", "ackley5", "hartmann6_noisy")


def _init_worker() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def _task(args: tuple[str, str, int, int]) -> tuple[str, str, int, list[float], list[float], float]:
    method, problem, seed, budget = args
    pb, true_values = instance(problem, seed)
    t0 = time.perf_counter()
    values = RUNNERS_ALL[method](pb, budget, seed)
    return method, problem, seed, values, true_values, time.perf_counter() - t0


def regret(observed: list[float], true_values: list[float], budget: int, optimum: float) -> float:
    """Noiseless value at the best observed point among the first ``budget``, minus the optimum."""
    i = int(np.argmin(observed[:budget]))
    return max(float(true_values[i]) - optimum, 0.0)


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    return f"{x:.1e}" if x < 0.01 else f"{x:.3g}"


RunSet = dict[int, tuple[list[float], list[float]]]  # seed -> (observed, noiseless) values


def summarise(results: dict, problems: list[str], budgets: list[int], methods: list[str]):
    """Rows ``(problem, budget, {method: median}, {peer: p}, verdict)``.

    ``results`` maps ``(method, problem)`` to a list of run sets (seed -> values); each
    budget reads the shortest set that reached it (see :func:`runs_at`).
    """
    rows = []
    for problem in problems:
        opt = SUITE[problem].optimum
        for b in budgets:
            picked = {m: runs_at(results[(m, problem)], b) for m in methods}
            regs = {m: np.array([regret(v, t, b, opt) for v, t in runs.values()])
                    for m, runs in picked.items() if runs is not None}
            meds = {m: float(np.median(r)) for m, r in regs.items()}
            pvals, verdict = {}, ""
            if "gp" in regs:
                for m in regs:
                    if m.startswith("gp") and m != "gpsampler":
                        continue
                    pvals[m] = float(stats.mannwhitneyu(regs["gp"], regs[m],
                                                        alternative="greater").pvalue)
                ranked = {m: meds[m] for m in ["gp", *pvals]}
                behind = [m for m, p in pvals.items() if p < 0.05]
                if min(ranked, key=lambda m: (ranked[m], m != "gp")) == "gp":
                    verdict = "best"
                elif not behind:
                    verdict = "tied"
                else:
                    verdict = "BEHIND " + ",".join(behind)
            rows.append((problem, b, meds, pvals, verdict))
    return rows


def _length(runs: RunSet) -> int:
    """Evaluations that every run of the set reached."""
    return min(len(v) for v, _ in runs.values())


def runs_at(sets: list[RunSet], budget: int) -> RunSet | None:
    """The runs that a budget reads: the shortest set that reached it, None if none did.

    A slow peer loaded from a file may have run only the smaller budgets (its cells at
    the larger ones stay empty). A peer may also have been run once per budget: SMAC3
    plans its initial design from the budget it is given (a quarter of it), so its
    100-evaluation run does not begin with its 50-evaluation run, and each budget reads
    the run made for it. For the methods that do not know the budget (hpstudy's GP,
    GPSampler, TPE, scikit-optimize, random) a shorter run is the start of a longer one.
    """
    reached = [runs for runs in sets if _length(runs) >= budget]
    return min(reached, key=_length) if reached else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 seeds, budgets 6 and 12")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="run seeds first-seed .. first-seed + seeds - 1 (more seeds for a saved "
                         "table: run the next ones and --load both files)")
    ap.add_argument("--budgets", default="25,50,100")
    ap.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--json", default=None, help="write raw values to this file")
    ap.add_argument("--load", default=None,
                    help="comma-separated --json files to summarise instead of running (runs "
                         "of a method on a problem of the same length are merged seed by seed, a "
                         "later file's winning; each budget reads the shortest runs that reached "
                         "it)")
    ap.add_argument("--min-seeds", type=int, default=None,
                    help="with --load: a method with fewer than --seeds seeds is read with all "
                         "it has if that is at least this many (default: --seeds)")
    ap.add_argument("--rst", action="store_true", help="also print the table as an RST list-table")
    args = ap.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    seeds = args.seeds
    problems = [p for p in args.problems.split(",") if p]
    methods = [m for m in args.methods.split(",") if m]
    if args.quick:
        budgets, seeds = [6, 12], 2
        if args.problems == ",".join(DEFAULT_PROBLEMS):
            problems = list(QUICK_PROBLEMS)
        if args.methods == ",".join(METHODS):
            methods = ["gp", "gpsampler", "tpe", "random"]
    if args.load:
        if args.first_seed:
            ap.error("--first-seed: has no effect with --load (the files say which seeds ran; "
                     "--seeds and --min-seeds choose how many are read)")
        return _report_loaded(args.load.split(","), problems, budgets, methods, seeds, args)
    for name in methods:
        if name not in RUNNERS_ALL:
            ap.error(f"--methods: unknown method {name!r} (known: {', '.join(RUNNERS_ALL)})")
    for name in problems:
        if name not in SUITE:
            ap.error(f"--problems: unknown problem {name!r} (known: {', '.join(SUITE)})")
    for m in list(methods):
        why = available(m)
        if why is not None and m in REQUIRED and os.environ.get("HPSTUDY_REQUIRE_PEERS"):
            ap.error(f"{why} (HPSTUDY_REQUIRE_PEERS is set, as in `make bench`)")
        if why is not None:
            print(f"note: {m} left out: {why}")
            methods.remove(m)
    top = max(budgets)
    if args.first_seed < 0:
        ap.error(f"--first-seed: must be >= 0 (got {args.first_seed})")
    seed_range = range(args.first_seed, args.first_seed + seeds)
    tasks = [(m, p, s, top) for s in seed_range for p in problems for m in methods]
    slow = {"skopt": 0, "hebo": 0, "gpsampler": 1, "smac-bb": 2, "gp": 3}
    tasks.sort(key=lambda t: slow.get(t[0], 4))  # slow tasks first, so the pool ends together
    results: dict[tuple[str, str], dict[int, tuple[list[float], list[float]]]] = {}
    seconds: dict[tuple[str, str], list[float]] = {}
    t0 = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
            done = list(pool.map(_task, tasks))
    else:
        _init_worker()
        done = [_task(t) for t in tasks]
    for method, problem, seed, values, true_values, secs in done:
        results.setdefault((method, problem), {})[seed] = (values, true_values)
        seconds.setdefault((method, problem), []).append(secs)
    sets = {key: [runs] for key, runs in results.items()}
    wall = time.perf_counter() - t0
    print(f"Median simple regret over {seeds} seeds ({seed_range.start} to {seed_range.stop - 1}; "
          f"p: one-sided Mann-Whitney, peer better than gp); wall {wall:.0f} s with "
          f"{args.workers} workers")
    _print_table(sets, seconds, problems, budgets, methods, f"budget {top}", args.rst)
    if args.json:
        raw = {f"{m}/{p}": {str(s): v for s, v in d.items()} for (m, p), d in results.items()}
        with open(args.json, "w") as fh:
            json.dump({"budgets": budgets, "values": raw, "seconds": {
                f"{m}/{p}": dict(zip(raw[f"{m}/{p}"], v, strict=True))
                for (m, p), v in seconds.items()}}, fh)
    return 0


class Loaded(NamedTuple):
    """Runs read from ``--json`` files by :func:`load_runs`."""

    budgets: list[int]  # every budget a file was run for
    runs: dict[tuple[str, str], dict[int, RunSet]]  # (method, problem) -> length -> runs
    seconds: dict[tuple[str, str], dict[int, dict[int, float]]]  # the same keys: seed -> seconds


def load_runs(paths: list[str]) -> Loaded:
    """Read ``--json`` files: runs of a method on a problem of the same length (evaluations
    every run reached) are merged seed by seed, a later file's run of a seed replacing an
    earlier file's; runs of other lengths are kept beside them (see :func:`runs_at`). A
    run's wall seconds go with it: a seed run again is timed once, by its later run."""
    budgets: set[int] = set()
    store: dict[tuple[str, str], dict[int, RunSet]] = {}
    secs: dict[tuple[str, str], dict[int, dict[int, float]]] = {}
    for path in paths:
        with open(path) as fh:
            raw = json.load(fh)
        budgets.update(int(b) for b in raw["budgets"])
        for key, runs in raw["values"].items():
            m, p = key.split("/", 1)
            got: RunSet = {int(s): (v[0], v[1]) for s, v in runs.items()}
            store.setdefault((m, p), {}).setdefault(_length(got), {}).update(got)
            timed = raw.get("seconds", {}).get(key, {})
            if isinstance(timed, list):  # files written before seconds were keyed by seed
                timed = dict(zip(runs, timed, strict=True))
            secs.setdefault((m, p), {}).setdefault(_length(got), {}).update(
                {int(s): float(t) for s, t in timed.items()})
    return Loaded(sorted(budgets), store, secs)


def _report_loaded(paths: list[str], problems: list[str], budgets: list[int],
                   methods: list[str], seeds: int, args: argparse.Namespace) -> int:
    """Summarise runs saved with ``--json`` (the first ``seeds`` seeds of each).

    Runs of a method on a problem of the same length are merged seed by seed (a later
    file's run of a seed replaces an earlier file's), so seeds run apart
    (``--first-seed``) make one table; runs of other lengths are kept beside them, and
    each budget reads the shortest that reached it (:func:`runs_at`). A method with
    fewer than ``seeds`` seeds is read with all it has when ``--min-seeds`` allows it
    (the Mann-Whitney test takes samples of different sizes); the header then says how
    many each method had.
    """
    min_seeds = seeds if args.min_seeds is None else args.min_seeds
    if not 1 <= min_seeds <= seeds:
        raise SystemExit(f"--min-seeds: must be between 1 and --seeds ({seeds}); got {min_seeds}")
    _, store, secs = load_runs(paths)
    if args.problems == ",".join(DEFAULT_PROBLEMS):
        problems = [p for p in DEFAULT_PROBLEMS if any(k[1] == p for k in store)]
    if args.methods == ",".join(METHODS):
        methods = [m for m in METHODS if any(k[0] == m for k in store)]
    results: dict[tuple[str, str], list[RunSet]] = {}
    for m in methods:
        for p in problems:
            results[(m, p)] = []
            for runs in store.get((m, p), {}).values():
                if len(runs) < min_seeds:
                    want = seeds if min_seeds == seeds else f"at least {min_seeds}"
                    raise SystemExit(f"--load: {m} on {p} has {len(runs)} seeds, not {want}")
                results[(m, p)].append({s: runs[s] for s in sorted(runs)[:seeds]})
            if not results[(m, p)]:
                raise SystemExit(f"--load: {m} on {p} has 0 seeds, not {seeds}")
            top = max(_length(runs) for runs in results[(m, p)])
            if top < (max(budgets) if m == "gp" else min(budgets)):  # a peer may stop early
                raise SystemExit(f"--load: {m} on {p} ran {top} evaluations, not {max(budgets)}")
    # the seconds line: the longest runs of each method (a run made for 50 evaluations is
    # not timed at 100)
    seconds = {key: list(per_length[max(per_length)].values())
               for key, per_length in secs.items()}
    counts = {m: sorted({len(runs) for p in problems for runs in results[(m, p)]}) for m in methods}
    over = f"{seeds} seeds" if all(c == [seeds] for c in counts.values()) else "seeds " + ", ".join(
        f"{m} {'/'.join(map(str, c))}" for m, c in counts.items())
    print(f"Median simple regret over {over} (p: one-sided Mann-Whitney, peer better than gp), "
          f"from {', '.join(paths)}")
    _print_table(results, seconds, problems, budgets, methods,
                 "each method's longest runs", args.rst)
    return 0


_LABELS = {"gp": "hpstudy", "gpsampler": "GPSampler", "tpe": "TPE", "tpe-mv": "TPE (mv)",
           "skopt": "skopt", "smac-bb": "SMAC BB", "smac-hpo": "SMAC HPO", "hebo": "HEBO",
           "random": "random"}


def _print_table(results: dict, seconds: dict, problems: list[str], budgets: list[int],
                 methods: list[str], timed: str, rst: bool) -> None:
    w = max(8, *(len(m) + 1 for m in methods))
    print(f"{'problem':<18} {'budget':>6} " + " ".join(f"{m:>{w}}" for m in methods)
          + "  verdict")
    rows = summarise(results, problems, budgets, methods)
    for problem, b, meds, pvals, verdict in rows:
        cells = " ".join(f"{_fmt(meds[m]) if m in meds else '-':>{w}}" for m in methods)
        print(f"{problem:<18} {b:>6} {cells}  {verdict}")
        pcells = " ".join(f"{'' if m not in pvals else f'p={pvals[m]:.2f}':>{w}}" for m in methods)
        print(f"{'':<18} {'':>6} {pcells}")
    print(familywise(rows))
    print(f"mean wall seconds per run ({timed}):")
    for problem in problems:
        print(f"{problem:<18} " + " ".join(
            f"{m} {np.mean(seconds[(m, problem)]):.1f}" for m in methods))
    if rst:
        print()
        print(rst_table(rows, methods))


def familywise(rows: list, alpha: float = 0.05) -> str:
    """The table's verdicts with every peer test of the table counted (Holm-Bonferroni).

    The verdicts above test each peer on each row at ``alpha`` on its own: with 14
    problems x 3 budgets x 5 peers that is 210 tests, and a method exactly as good as
    every peer would be called BEHIND on about 9 of them by chance alone (the one-sided
    Mann-Whitney test over 10 against 10 seeds rejects 4.46 % of the time at 0.05:
    :data:`benchmarks.bench_aa.SIZE_10`). This
    line adds the familywise reading: Holm's step-down adjustment of all the p-values,
    and which (row, peer) pairs stay below ``alpha``.
    """
    from statsmodels.stats.multitest import multipletests

    tests = [(f"{problem}@{b}", peer, p) for problem, b, _, pvals, _ in rows
             for peer, p in pvals.items()]
    if not tests:
        return "familywise (Holm): no peer tests"
    reject, adjusted, _, _ = multipletests([p for *_, p in tests], alpha=alpha, method="holm")
    behind = [f"{row} {peer} (adjusted p={a:.3f})" for (row, peer, _), r, a
              in zip(tests, reject, adjusted, strict=True) if r]
    i = int(np.argmin([p for *_, p in tests]))
    head = (f"familywise (Holm over the {len(tests)} peer tests): smallest p "
            f"{tests[i][2]:.3f} ({tests[i][0]} {tests[i][1]}), adjusted {adjusted[i]:.3f}; ")
    return head + (f"BEHIND: {', '.join(behind)}" if behind else "BEHIND on no row")


def rst_table(rows: list, methods: list[str]) -> str:
    """The rows of :func:`summarise` as an RST list-table: medians, and each peer's p in brackets."""
    out = [".. list-table::", "   :header-rows: 1", "", "   * - problem", "     - budget"]
    out += [f"     - {_LABELS.get(m, m)}" + ("" if m == "gp" else " (p)") for m in methods]
    out.append("     - verdict")
    for problem, b, meds, pvals, verdict in rows:
        out += [f"   * - {problem}", f"     - {b}"]
        for m in methods:
            p = pvals.get(m)
            cell = "-" if m not in meds else _fmt(meds[m]) if p is None else \
                f"{_fmt(meds[m])} ({'<0.01' if p < 0.005 else f'{p:.2f}'})"
            out.append(f"     - {cell}")
        out.append(f"     - {verdict}")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
