"""Optimizer overhead: seconds per ask+tell with N completed trials already recorded.

Run ``python -m benchmarks.bench_gp_overhead`` (about 70 s on 2 cores) or ``--quick``
for a smoke run. For each problem (Branin 2-D, Hartmann 6-D, the jellyfish
sweep's 8-parameter mixed space) and each N, the four optimizers get the same
N random completed trials; then each runs a few rounds of ask one point,
evaluate it, tell it (append it to the trials). GPOptimizer is warmed up with
untimed asks at N - 2 and N - 1, as in a running study (one fits the noise level,
the other is its noise-free fit), so its checkpoint caches hold what a study's
would; its hyperparameter refits (every ~10 % growth of the data
beyond 100 trials) are included when they fall in the timed rounds, so the mean
is an amortised cost. scikit-optimize goes through :class:`SkoptOptimizer`
(one ``tell`` of every trial, one GP fit, then ``ask``: the same work as one
round of ``skopt.Optimizer.ask/tell``), with fewer rounds and up to
``--skopt-max`` trials because it is slow. Optuna's TPE gets its history with
``add_trials``, and so does Optuna's GPSampler (torch; left out with a note
when torch is missing), which gets one untimed ask first, as in a running
study, so its cached kernel parameters warm-start its timed fits. Ratios are
measured in the same run.

``--failed`` measures instead what a failed trial costs the GP's warm-start
chain: N trials of which every tenth FAILED (imputed with the worst value),
one warm ask at N - 1 as in a running study, then the trial N - 1 comes back
with a new worst value (which changes what the failed trials are imputed
with) and the next ask is timed, beside the same ask when the new value is
not a new worst.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from statistics import mean, median
from typing import Any

import numpy as np

from benchmarks._problems import Problem, _optuna_params
from benchmarks._suite import SUITE as PROBLEMS
from hpstudy.optimizers.gp import GPOptimizer, _optimizer
from hpstudy.optimizers.skopt import SkoptOptimizer
from hpstudy.trials import Goal, Trial, Trials, TrialState


def _history(pb: Problem, n: int, seed: int = 0) -> list[Trial]:
    return [Trial(number=i, params=p, state=TrialState.COMPLETE, value=pb.f(p))
            for i, p in enumerate(pb.space.sample(n, seed=seed))]


def time_hpstudy(opt, pb: Problem, n: int, rounds: int, warm: bool) -> list[float]:
    trials = _history(pb, n)
    # a running study's last asks: one of each fit (see _optimizer.NOISE_FREE_EVERY)
    for k in range(max(_optimizer.NOISE_FREE_EVERY, 1), 0, -1) if warm else ():
        if n > k:
            opt.ask(pb.space, Trials(trials[:-k], goal=Goal.MINIMIZE), 1,
                    np.random.default_rng(n - k))
    out = []
    for r in range(rounds):
        t0 = time.perf_counter()
        p = opt.ask(pb.space, Trials(trials, goal=Goal.MINIMIZE), 1, np.random.default_rng([n, r]))[0]
        trials.append(Trial(number=len(trials), params=p, state=TrialState.COMPLETE,
                            value=pb.f(p)))
        out.append(time.perf_counter() - t0)
    return out


def time_new_worst(pb: Problem, n: int, new_worst: bool, fail_every: int = 10) -> float:
    """Seconds of one warm ask after trial N - 1 ends (a new worst value or not)."""
    trials = [Trial(number=t.number, params=t.params, state=TrialState.FAILED)
              if t.number % fail_every == fail_every - 1 else t for t in _history(pb, n - 1)]
    opt = GPOptimizer()
    p = opt.ask(pb.space, Trials(trials, goal=Goal.MINIMIZE), 1, np.random.default_rng(n))[0]
    worst = max(t.value for t in trials if t.value is not None)
    value = worst + 1.0 if new_worst else min(pb.f(p), worst)
    trials.append(Trial(number=n - 1, params=p, state=TrialState.COMPLETE, value=value))
    t0 = time.perf_counter()
    opt.ask(pb.space, Trials(trials, goal=Goal.MINIMIZE), 1, np.random.default_rng(n + 1))
    return time.perf_counter() - t0


def failed_table(problems: list[str], sizes: list[int]) -> None:
    """Print the cost of a new worst value when some trials failed (see the module notes)."""
    print("seconds of one GP ask after a trial ends, every tenth trial FAILED (imputed worst)")
    print(f"{'problem':<10} {'N':>5} {'not a new worst':>16} {'a new worst':>12}")
    for name in problems:
        pb = PROBLEMS[name]
        for n in sizes:
            same, worse = time_new_worst(pb, n, False), time_new_worst(pb, n, True)
            print(f"{name:<10} {n:>5} {same:>16.3f} {worse:>12.3f}", flush=True)


def time_optuna(pb: Problem, n: int, rounds: int, sampler: Any, warm: int = 0) -> list[float]:
    """Seconds per ask+tell of an Optuna sampler with ``n`` completed trials; ``warm`` untimed first."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    dists = {}
    for name in pb.space.names:
        dim = pb.space[name]
        if dim.kind == "categorical":
            dists[name] = CategoricalDistribution(list(dim.values))
        elif dim.kind == "integer":
            dists[name] = IntDistribution(dim.low, dim.high, log=dim.log)
        else:
            dists[name] = FloatDistribution(dim.low, dim.high, log=dim.log)
    study = optuna.create_study(sampler=sampler)
    study.add_trials([optuna.trial.create_trial(params=dict(t.params), distributions=dists, value=t.value)
                      for t in _history(pb, n)])
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(warm + rounds):
            t0 = time.perf_counter()
            trial = study.ask()
            study.tell(trial, pb.f(_optuna_params(trial, pb.space)))
            if r >= warm:
                out.append(time.perf_counter() - t0)
    return out


def time_tpe(pb: Problem, n: int, rounds: int) -> list[float]:
    import optuna

    return time_optuna(pb, n, rounds, optuna.samplers.TPESampler(seed=0))


def time_gpsampler(pb: Problem, n: int, rounds: int) -> list[float] | None:
    """GPSampler's seconds per ask+tell (one untimed warm-up ask), or None without torch."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return None
    import optuna

    return time_optuna(pb, n, rounds, optuna.samplers.GPSampler(seed=0), warm=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: N = 10, 20; 2 rounds")
    ap.add_argument("--sizes", default="25,50,100,200,300")
    ap.add_argument("--problems", default="branin,hartmann6,mixed8")
    ap.add_argument("--rounds", type=int, default=20, help="timed rounds for ours and TPE")
    ap.add_argument("--skopt-rounds", type=int, default=2)
    ap.add_argument("--gps-rounds", type=int, default=3, help="timed rounds for GPSampler")
    ap.add_argument("--skopt-max", type=int, default=300,
                    help="largest N at which scikit-optimize is timed")
    ap.add_argument("--failed", action="store_true",
                    help="time the ask after a new worst value with failed trials imputed")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rounds, skopt_rounds, gps_rounds = args.rounds, args.skopt_rounds, args.gps_rounds
    if args.quick:
        sizes, rounds, skopt_rounds, gps_rounds = [10, 20], 2, 1, 1
    problems = [p for p in args.problems.split(",") if p]
    for name in problems:
        if name not in PROBLEMS:
            ap.error(f"--problems: unknown problem {name!r}")
    if args.failed:
        failed_table(problems, [n for n in sizes if n > 1])
        return 0
    print("seconds per ask+tell (ours: mean over rounds, amortising refits; median in brackets)")
    if time_gpsampler(PROBLEMS["branin"], 2, 1) is None:
        print("note: Optuna's GPSampler left out: it needs torch (pip install -e '.[peers]')")
    print(f"{'problem':<10} {'N':>5} {'ours':>18} {'skopt':>9} {'GPSampler':>10} {'TPE':>8} "
          f"{'skopt/ours':>11} {'GPS/ours':>9} {'TPE/ours':>9}")
    failures = []
    for name in problems:
        pb = PROBLEMS[name]
        for n in sizes:
            ours = time_hpstudy(GPOptimizer(), pb, n, rounds, warm=True)
            tpe = mean(time_tpe(pb, n, rounds))
            gps_t = time_gpsampler(pb, n, gps_rounds)
            gps = None if gps_t is None else mean(gps_t)
            sk = None
            if n <= args.skopt_max:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sk = mean(time_hpstudy(SkoptOptimizer(), pb, n, skopt_rounds, warm=False))
            o = mean(ours)
            sk_cell = f"{sk:9.3f}" if sk is not None else f"{'-':>9}"
            ratio = f"{sk / o:10.1f}x" if sk is not None else f"{'-':>11}"
            gps_cell = f"{gps:10.3f}" if gps is not None else f"{'-':>10}"
            gps_ratio = f"{gps / o:8.1f}x" if gps is not None else f"{'-':>9}"
            print(f"{name:<10} {n:>5} {o:9.4f} [{median(ours):.4f}] {sk_cell} {gps_cell} "
                  f"{tpe:8.4f} {ratio} {gps_ratio} {tpe / o:8.2f}x", flush=True)
            if n in (50, 100, 300) and gps is not None and gps / o < 3:
                failures.append(f"{name} N={n}: only {gps / o:.1f}x faster than GPSampler "
                                "(target 3x)")
            if n == 100 and sk is not None and sk / o < 20:
                failures.append(f"{name} N=100: only {sk / o:.1f}x faster than skopt (target 20x)")
            if n == 300 and o > 0.1:
                failures.append(f"{name} N=300: {o * 1000:.0f} ms per ask (target < 100 ms)")
    if not args.quick:
        print("targets met" if not failures else "targets missed: " + "; ".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
