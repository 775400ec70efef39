"""Pruned trials in the GP: does the imputation rule out a slow learner that ends best?

Synthetic learning curves with two architectures (a categorical ``arch``) and two
continuous hyperparameters. ``fast`` learns in a few epochs to a lower ceiling;
``slow`` learns slowly and ends higher, with its optimum elsewhere in the
hyperparameters (the curves cross: at the first rung a good ``slow`` configuration
is level with a middling ``fast`` one). Every epoch reports an accuracy with the noise
of a 300-image validation set (binomial). Each study is a real :class:`hpstudy.Study`
(one worker, in memory) with the GP optimizer and a stopper, run once per imputation
rule of pruned trials on the same seed:

- ``worst``: ``min(own last value, worst complete)`` (the default before ``rung``);
- ``rung``: the rank at the rung it was stopped at, mapped onto the finals of the
  trials that passed that rung;
- ``pending``: left out of the fit, avoided like a running trial.

The study picks the COMPLETE trial with the best observed value
(:meth:`hpstudy.Trials.best`); we score it by its true (noise-free) final value, and
count the seeds whose chosen trial is a ``slow`` one. The p-value is a two-sided
Mann-Whitney U test of each rule's chosen true values against ``worst``'s; a last
table pairs each rule with ``worst`` seed by seed (the same curves and the same
start) and pools the cells, with the Wilcoxon signed-rank test. Run::

    python -m benchmarks.bench_pruned_gp              # 40 seeds, hyperband and asha
    python -m benchmarks.bench_pruned_gp --quick      # a smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import time
import warnings

import numpy as np
from scipy import stats

import hpstudy
from hpstudy.optimizers.gp import GPOptimizer
from hpstudy.stopping import ASHA, Hyperband

EPOCHS = 15
N_VAL = 300
RULES = ("worst", "rung", "pending")


def space() -> hpstudy.SearchSpace:
    """``arch`` (categorical), ``lr`` and ``dropout`` (continuous); names not alphabetical."""
    return hpstudy.SearchSpace({"lr": hpstudy.Real(0.0, 1.0),
                                "arch": hpstudy.Categorical(("fast", "slow")),
                                "dropout": hpstudy.Real(0.0, 1.0)})


#: The ``slow`` architecture of each scenario: (ceiling at worst, gain at its optimum, time
#: constant in epochs). ``fast`` is (0.55, 0.22, 1.5) everywhere; its best final is 0.770.
SCENARIOS = {
    "crossing": (0.60, 0.25, 2.5),       # slow ends best (0.848); good slow configs can pass rung 1
    "late crossing": (0.60, 0.25, 4.0),  # slow ends best (0.822) but trails at rung 1 (rarely passes)
    "no crossing": (0.45, 0.25, 2.5),    # control: slow is slow and ends worse (0.698)
}


def true_curve(params: dict, epoch: int, scenario: str = "crossing") -> float:
    """Noise-free accuracy after ``epoch`` epochs."""
    lr, dropout = float(params["lr"]), float(params["dropout"])
    if params["arch"] == "slow":
        base, gain, tau = SCENARIOS[scenario]
        quality = 1.0 - ((lr - 0.7) ** 2 + (dropout - 0.3) ** 2) / 0.98
        return (base + gain * quality) * (1.0 - math.exp(-epoch / tau))
    quality = 1.0 - ((lr - 0.3) ** 2 + (dropout - 0.6) ** 2) / 0.85
    return (0.55 + 0.22 * quality) * (1.0 - math.exp(-epoch / 1.5))


def true_final(params: dict, scenario: str = "crossing") -> float:
    return true_curve(params, EPOCHS, scenario)


def observed(params: dict, seed: int, scenario: str = "crossing") -> list[float]:
    """The reported accuracies: binomial noise of ``N_VAL`` images, a function of the
    parameters and the benchmark seed (every rule sees the same curve for a point)."""
    key = f"{params['arch']}|{float(params['lr']):.12f}|{float(params['dropout']):.12f}|{seed}"
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little"))
    return [rng.binomial(N_VAL, min(0.999, max(0.001, true_curve(params, e, scenario)))) / N_VAL
            for e in range(1, EPOCHS + 1)]


def make_objective(seed: int, scenario: str):
    def objective(params: dict, ctx) -> float:
        values = observed(params, seed, scenario)
        for epoch, value in enumerate(values, start=1):
            ctx.report(epoch, value)
        return values[-1]

    return objective


def run_study(rule: str, stopper, seed: int, n_trials: int, scenario: str) -> dict:
    """One study; the chosen trial's true final value and how much ``slow`` was tried."""
    study = hpstudy.Study(space(), metric="acc", goal="maximize", seed=seed,
                          optimizer=GPOptimizer(pruned=rule), stopper=stopper)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the >70 % pruned warning
        trials = study.run(make_objective(seed, scenario), n_trials=n_trials, progress=False)
    best = trials.best()
    slow = [t for t in trials if t.params["arch"] == "slow"]
    return {
        "true": true_final(best.params, scenario) if best is not None else math.nan,
        "slow_chosen": best is not None and best.params["arch"] == "slow",
        "slow_tried": len(slow),
        "slow_complete": sum(t.state is hpstudy.TrialState.COMPLETE for t in slow),
        "pruned": sum(t.state is hpstudy.TrialState.PRUNED for t in trials) / len(trials),
    }


def oracle(scenario: str) -> tuple[float, float]:
    """The best true final value of each architecture (a fine grid)."""
    g = np.linspace(0.0, 1.0, 101)
    return tuple(max(true_final({"arch": a, "lr": x, "dropout": y}, scenario) for x in g for y in g)
                 for a in ("fast", "slow"))  # type: ignore[return-value]


def table(name: str, stopper, seeds: int, n_trials: int, scenario: str
          ) -> dict[str, np.ndarray]:
    """Print one scenario x stopper block; return each rule's chosen true values by seed."""
    results = {rule: [] for rule in RULES}
    elapsed = dict.fromkeys(RULES, 0.0)
    for seed in range(seeds):
        for rule in RULES:
            t0 = time.perf_counter()
            results[rule].append(run_study(rule, stopper, seed, n_trials, scenario))
            elapsed[rule] += time.perf_counter() - t0
    base = np.array([r["true"] for r in results["worst"]])
    header = (f"{'scenario':13s} {'stopper':26s} {'pruned=':8s} {'median true':>11s} {'mean true':>9s} "
              f"{'slow chosen':>11s} {'slow tried':>10s} {'slow done':>9s} {'pruned':>6s} "
              f"{'p vs worst':>10s} {'sec':>5s}")
    print(header)
    print("-" * len(header))
    rows = []
    for rule in RULES:
        res = results[rule]
        true = np.array([r["true"] for r in res])
        p = (stats.mannwhitneyu(true, base, alternative="two-sided").pvalue
             if rule != "worst" else math.nan)
        row = (scenario, name, rule, float(np.median(true)), float(np.mean(true)),
               float(np.mean([r["slow_chosen"] for r in res])),
               float(np.mean([r["slow_tried"] for r in res])),
               float(np.mean([r["slow_complete"] for r in res])),
               float(np.mean([r["pruned"] for r in res])), p)
        rows.append(row)
        print(f"{scenario:13s} {name:26s} {rule:8s} {row[3]:11.4f} {row[4]:9.4f} {row[5]:11.0%} "
              f"{row[6]:10.1f} {row[7]:9.1f} {row[8]:6.0%} {'' if math.isnan(p) else f'{p:.3f}':>10s} "
              f"{elapsed[rule]:5.0f}", flush=True)
    return {rule: np.array([r["true"] for r in results[rule]]) for rule in RULES}


def pooled(by_cell: dict[tuple[str, str], dict[str, np.ndarray]]) -> None:
    """Each rule against ``worst`` on the same seeds, pooled over the cells where ``slow``
    ends best and over the control: wins/losses and the Wilcoxon signed-rank test."""
    print("\npaired by seed (same curves, same start), pooled over cells:")
    header = (f"{'cells':34s} {'rule':8s} {'pairs':>5s} {'better':>6s} {'worse':>5s} "
              f"{'mean diff':>9s} {'Wilcoxon p':>10s}")
    print(header)
    print("-" * len(header))
    groups = {"slow ends best (crossing, late)": ("crossing", "late crossing"),
              "control (no crossing)": ("no crossing",)}
    for label, scenarios in groups.items():
        cells = [v for (sc, _), v in by_cell.items() if sc in scenarios]
        if not cells:
            continue
        for rule in RULES[1:]:
            d = np.concatenate([c[rule] - c["worst"] for c in cells])
            d = d[np.isfinite(d)]
            p = stats.wilcoxon(d).pvalue if np.any(d != 0) else 1.0
            print(f"{label:34s} {rule:8s} {len(d):5d} {int(np.sum(d > 0)):6d} "
                  f"{int(np.sum(d < 0)):5d} {d.mean():+9.4f} {p:10.3f}")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 seeds, 12 trials, hyperband only")
    p.add_argument("--seeds", type=int, default=40)
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--stoppers", default="hyperband,asha", help="hyperband,asha")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help=", ".join(SCENARIOS))
    args = p.parse_args(argv)
    logging.getLogger("hpstudy.study").setLevel(logging.ERROR)  # the >70 % pruned warning
    seeds, n = (2, 12) if args.quick else (args.seeds, args.trials)
    stoppers = {"hyperband": ("hyperband min_iter=3 eta=3", Hyperband(min_iter=3, eta=3)),
                "asha": ("asha min=3 eta=3", ASHA(min_resource=3, eta=3, max_resource=EPOCHS))}
    chosen = ["hyperband"] if args.quick else [s.strip() for s in args.stoppers.split(",")]
    scenarios = [s.strip() for s in args.scenarios.split(",")]
    print(f"{seeds} seeds x {n} trials x {EPOCHS} epochs; noise of {N_VAL} images per epoch")
    by_cell = {}
    for scenario in scenarios:
        fast, slow = oracle(scenario)
        print(f"\n{scenario}: best true final fast {fast:.4f}, slow {slow:.4f}")
        for key in chosen:
            name, stopper = stoppers[key]
            by_cell[scenario, key] = table(name, stopper, seeds, n, scenario)
    pooled(by_cell)


if __name__ == "__main__":
    main()
