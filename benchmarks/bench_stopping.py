"""Early termination on synthetic learning curves: epochs saved, quality kept.

Each simulated study is a random search of ``--trials`` configurations, each one a
learning curve of ``--epochs`` epochs whose noise-free final value is known. The
same curves (same seed) are run once to the end and once under each stopper,
sequentially (1 worker) and with 4 asynchronous workers (epochs of random
duration). A study picks the COMPLETE trial with the best *observed* final
value, as :meth:`hpstudy.Trials.best` does; we score it by its *true* final
value. Run::

    python -m benchmarks.bench_stopping            # 50 seeds
    python -m benchmarks.bench_stopping --quick    # a smoke run

A second table runs k-fold studies (3 folds, each fold's values carrying the noise
of a 300-image validation set, sd about 0.026) under Hyperband with each fold rule
(``each``: today's per-fold rule; ``mean``; ``first``; ``mean`` with the noise-aware
margins ``noise: {n: 300}`` and ``noise: {se: fold}``), folds run one after another
(1 worker) and in parallel (3 workers).
"""

from __future__ import annotations

import argparse
import heapq
import math
import time

import attrs
import numpy as np

from hpstudy.stopping import ASHA, Hyperband, MedianStopper
from hpstudy.trials import FoldResult, Goal, Report, StopDecision, Trial, Trials, TrialState


@attrs.frozen(kw_only=True)
class Curves:
    """Noisy observed curves (n, T) and their noise-free final values (n,)."""

    observed: np.ndarray
    true_final: np.ndarray
    noise: np.ndarray


def make_curves(rng: np.random.Generator, n: int, epochs: int) -> Curves:
    """Saturating accuracy-like curves: half exponential, half power law.

    Asymptotes, rates, starting points and noise levels are random; slow learners
    tend to have higher asymptotes (a third of them), so curves cross.
    """
    t = np.arange(1, epochs + 1, dtype=float)
    asym = rng.uniform(0.55, 0.95, size=n)
    start = rng.uniform(0.15, 0.35, size=n)
    tau = np.exp(rng.uniform(np.log(0.7), np.log(12.0), size=n))
    slow_good = rng.random(n) < 1 / 3  # crossing: the slowest climb highest
    asym[slow_good] = rng.uniform(0.85, 0.97, size=slow_good.sum())
    tau[slow_good] = rng.uniform(6.0, 15.0, size=slow_good.sum())
    power = rng.random(n) < 0.5
    exp_part = 1.0 - np.exp(-t[None, :] / tau[:, None])
    pow_part = 1.0 - (t[None, :]) ** (-1.0 / np.sqrt(tau[:, None]))
    shape = np.where(power[:, None], pow_part, exp_part)
    clean = start[:, None] + (asym - start)[:, None] * shape
    noise = rng.uniform(0.005, 0.02, size=n)
    observed = clean + rng.normal(size=clean.shape) * noise[:, None]
    return Curves(observed=observed, true_final=clean[:, -1], noise=noise)


def simulate(curves: Curves, stopper, workers: int, rng: np.random.Generator):
    """Run the study; return (epochs spent, index of the chosen trial or -1)."""
    n, horizon = curves.observed.shape
    duration = np.asarray(rng.uniform(0.5, 1.5, size=n) if workers > 1 else np.ones(n))
    trials: dict[int, Trial] = {}
    reports: list[list[Report]] = [[] for _ in range(n)]
    heap: list[tuple[float, int]] = []
    started = 0
    for _ in range(min(workers, n)):
        heapq.heappush(heap, (duration[started], started))
        started += 1
    epochs = 0
    while heap:
        now, i = heapq.heappop(heap)
        e = len(reports[i])
        value = float(curves.observed[i, e])
        reports[i].append(Report(step=e + 1, value=value))
        epochs += 1
        trial = Trial(number=i, params={}, reports=tuple(reports[i]))
        trials[i] = trial
        stop = False
        if stopper is not None:
            d = stopper.decide(trial, Trials(trials.values(), goal=Goal.MAXIMIZE))
            stop = d is not None and d.stop
        if stop or e + 1 == horizon:
            state = TrialState.PRUNED if stop else TrialState.COMPLETE
            trials[i] = attrs.evolve(trial, state=state, value=value)
            if started < n:
                heapq.heappush(heap, (now + duration[started], started))
                started += 1
        else:
            heapq.heappush(heap, (now + duration[i], i))
    best = Trials(trials.values(), goal=Goal.MAXIMIZE).best()
    return epochs, (-1 if best is None else best.number)


FOLD_SD = math.sqrt(0.8 * 0.2 / 300)  # a 300-image fold at 80 % accuracy


def simulate_kfold(curves: Curves, k: int, stopper, workers: int, rng: np.random.Generator):
    """A k-fold study: tasks (trial, fold) on ``workers`` asynchronous workers.

    Returns (epochs spent, chosen trial or -1, share of trials pruned).
    """
    n, horizon = curves.observed.shape
    folded = curves.observed[:, None, :] + rng.normal(size=(n, k, horizon)) * FOLD_SD
    queue = [(i, f) for i in range(n) for f in range(k)]
    reports: dict[int, list[Report]] = {i: [] for i in range(n)}
    results: dict[int, list[FoldResult]] = {i: [] for i in range(n)}
    decisions: dict[int, list[StopDecision]] = {i: [] for i in range(n)}
    pruned: set[int] = set()
    progress: dict[tuple[int, int], int] = {}
    heap: list[tuple[float, int, int]] = []
    epochs = 0

    def start(now: float) -> None:
        while queue and len(heap) < workers:
            i, f = queue.pop(0)
            if i in pruned:
                continue
            progress[(i, f)] = 0
            heapq.heappush(heap, (now + rng.uniform(0.5, 1.5), i, f))

    def record(i: int) -> Trial:
        return Trial(number=i, params={}, reports=tuple(reports[i]), folds=tuple(results[i]),
                     decisions=tuple(decisions[i]))

    start(0.0)
    while heap:
        now, i, f = heapq.heappop(heap)
        e = progress[(i, f)]
        report = Report(step=e + 1, value=float(folded[i, f, e]), fold=f)
        reports[i].append(report)
        epochs += 1
        d = None
        if stopper is not None:
            everyone = [record(j) for j in reports if reports[j]]
            d = stopper.decide(record(i), Trials(everyone, goal=Goal.MAXIMIZE), report=report)
            if d is not None:
                decisions[i].append(d)
        if d is not None and d.stop:
            pruned.add(i)
            results[i].append(FoldResult(fold=f, seed=0, state=TrialState.PRUNED))
        elif e + 1 == horizon:
            results[i].append(FoldResult(fold=f, seed=0, state=TrialState.COMPLETE,
                                         metrics={"value": report.value}))
        else:
            progress[(i, f)] = e + 1
            heapq.heappush(heap, (now + rng.uniform(0.5, 1.5), i, f))
            continue
        start(now)
    complete = [i for i in range(n) if i not in pruned and len(results[i]) == k]
    if not complete:
        return epochs, -1, len(pruned) / n
    means = {i: np.mean([r.metrics["value"] for r in results[i]]) for i in complete}
    return epochs, max(complete, key=lambda i: (means[i], -i)), len(pruned) / n


def kfold_table(seeds: int, n: int, horizon: int, k: int = 3) -> None:
    """Print the k-fold table: each fold rule, serial and parallel folds."""
    base = Hyperband(min_iter=3, eta=3)
    rules = {
        "none (full run)": None,
        "each (per fold, before)": attrs.evolve(base, folds="each"),
        "mean (default)": base,
        "first": attrs.evolve(base, folds="first"),
        "mean + noise n=300": attrs.evolve(base, noise={"n": 300}),
        "mean + noise se=fold": attrs.evolve(base, noise={"se": "fold"}),
    }
    print(f"\nk-fold: {seeds} seeds x {n} trials x {k} folds x {horizon} epochs, hyperband "
          f"min_iter=3 eta=3; fold noise sd {FOLD_SD:.3f} (300 images)")
    header = (f"{'fold rule':28s} {'workers':>7s} {'epochs':>8s} {'saved':>6s} {'pruned':>7s} "
              f"{'best true':>9s} {'vs full (95% CI)':>20s} {'regret':>7s}")
    print(header)
    print("-" * len(header))
    for workers in (1, k):
        rows: dict[str, tuple[list, ...]] = {name: ([], [], [], []) for name in rules}
        for seed in range(seeds):
            curves = make_curves(np.random.default_rng(seed), n, horizon)
            oracle = curves.true_final.max()
            for name, stopper in rules.items():
                epochs, chosen, share = simulate_kfold(curves, k, stopper, workers,
                                                       np.random.default_rng(20_000 + seed))
                quality = curves.true_final[chosen] if chosen >= 0 else math.nan
                for store, v in zip(rows[name], (epochs, quality, oracle - quality, share),
                                    strict=True):
                    store.append(v)
        full_epochs = np.array(rows["none (full run)"][0], float)
        full_quality = np.array(rows["none (full run)"][1])
        for name in rules:
            epochs, quality, regret, share = (np.array(x, float) for x in rows[name])
            diff = quality - full_quality
            half = 1.96 * np.nanstd(diff, ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else 0.0
            saved = 1.0 - epochs.mean() / full_epochs.mean()
            print(f"{name:28s} {workers:7d} {epochs.mean():8.1f} {saved:6.0%} {share.mean():7.0%} "
                  f"{np.nanmean(quality):9.4f} {np.nanmean(diff):+9.4f} ± {half:.4f} "
                  f"{np.nanmean(regret):7.4f}")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="5 seeds, 30 trials")
    p.add_argument("--seeds", type=int, default=50)
    p.add_argument("--trials", type=int, default=60)
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--kfold-seeds", type=int, default=20, help="seeds of the k-fold table")
    p.add_argument("--kfold-only", action="store_true", help="only the k-fold table")
    args = p.parse_args(argv)
    seeds, n = (5, 30) if args.quick else (args.seeds, args.trials)
    horizon = args.epochs
    stoppers = {
        "none (full run)": None,
        "hyperband min_iter=3 eta=3 (strict)": Hyperband(min_iter=3, eta=3),
        "hyperband min_iter=3 eta=3 strict=false": Hyperband(min_iter=3, eta=3, strict=False),
        "asha min=3 eta=3": ASHA(min_resource=3, eta=3, max_resource=horizon),
        "median warmup=2 startup=5": MedianStopper(n_warmup_steps=2, n_startup_trials=5),
    }
    if args.kfold_only or args.quick:
        kfold_table(3 if args.quick else args.kfold_seeds, 20 if args.quick else 40,
                    12 if args.quick else 15)
        if args.kfold_only:
            return
    print(f"{seeds} seeds x {n} trials x {horizon} epochs, maximise; noise sd 0.005-0.02")
    header = (f"{'stopper':42s} {'workers':>7s} {'epochs':>8s} {'saved':>6s} {'best true':>9s} "
              f"{'vs full (95% CI)':>20s} {'regret':>7s} {'within':>7s} {'sec':>5s}")
    print(header)
    print("-" * len(header))
    for workers in (1, 4):
        rows: dict[str, tuple[list, list, list]] = {name: ([], [], []) for name in stoppers}
        elapsed = dict.fromkeys(stoppers, 0.0)
        for seed in range(seeds):
            curves = make_curves(np.random.default_rng(seed), n, horizon)
            oracle = curves.true_final.max()
            for name, stopper in stoppers.items():
                t0 = time.perf_counter()
                epochs, chosen = simulate(curves, stopper, workers,
                                          np.random.default_rng(10_000 + seed))
                elapsed[name] += time.perf_counter() - t0
                quality = curves.true_final[chosen] if chosen >= 0 else math.nan
                rows[name][0].append(epochs)
                rows[name][1].append(quality)
                rows[name][2].append(oracle - quality)
        full_epochs = np.array(rows["none (full run)"][0], float)
        full_quality = np.array(rows["none (full run)"][1])
        for name in stoppers:
            epochs, quality, regret = (np.array(x, float) for x in rows[name])
            diff = quality - full_quality
            half = 1.96 * diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else 0.0
            within = np.mean(diff >= -0.01)  # no worse than the full run by 0.01 (noise sd)
            saved = 1.0 - epochs.mean() / full_epochs.mean()
            print(f"{name:42s} {workers:7d} {epochs.mean():8.1f} {saved:6.0%} "
                  f"{np.nanmean(quality):9.4f} {diff.mean():+9.4f} ± {half:.4f} "
                  f"{np.nanmean(regret):7.4f} {within:7.0%} {elapsed[name]:5.1f}")
    print("\nsaved: fewer epochs than the full run; best true: true final value of the chosen "
          "trial;\nvs full: its difference from the full run's choice (same curves); regret: "
          "oracle best minus chosen;\nwithin: share of seeds whose choice is no worse than the "
          "full run's by more than 0.01.")
    if not args.quick:
        kfold_table(args.kfold_seeds, 40, 15)


if __name__ == "__main__":
    main()
