"""Time and size of ``hpstudy.report.write_html`` at 100, 1,000 and 10,000 trials.

Run: ``python -m benchmarks.bench_report [--quick]``

The trials are built directly (three model families, 5 folds, 10 reported steps
per fold, a quarter of the trials pruned, a few failed), so the time measured is
the report's own: statistics (importance forest, variance decomposition,
bootstraps) and figures. Target: under 10 s at 1,000 trials on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from hpstudy.trials import FoldResult, Report, StopDecision, Trial, Trials, TrialState

MODELS = {"svc": 0.93, "knn": 0.91, "logreg": 0.89}


def synthetic_trials(n: int, n_folds: int = 5, steps: int = 10, seed: int = 0) -> Trials:
    """``n`` trials of a three-model study with fold results, reports and decisions."""
    rng = np.random.default_rng(seed)
    fold_effect = rng.normal(0, 0.01, n_folds)
    out, t0 = [], 1.7e9
    names = list(MODELS)
    for i in range(n):
        model = names[i % 3]
        params = {"model_name": model, "lr": float(10 ** rng.uniform(-5, -1)),
                  "layers": int(rng.integers(1, 6)), "opt": str(rng.choice(["adam", "sgd"]))}
        target = MODELS[model] - 0.01 * abs(math.log10(params["lr"]) + 3)
        failed = rng.random() < 0.02
        pruned = not failed and rng.random() < 0.25
        folds, reports, decisions = [], [], []
        for f in range(n_folds):
            y = target + fold_effect[f] + rng.normal(0, 0.01)
            last = steps // 3 if pruned else steps
            for s in range(1, last + 1):
                reports.append(Report(step=s, value=y * (1 - 0.6 ** s), fold=f))
            if pruned:
                decisions.append(StopDecision(step=last, stop=True, rule="hyperband", fold=f,
                                              value=reports[-1].value, threshold=y, bracket=0))
            state = TrialState.FAILED if failed else (TrialState.PRUNED if pruned
                                                      else TrialState.COMPLETE)
            folds.append(FoldResult(fold=f, seed=f, state=state, duration=1.0,
                                    metrics={} if failed else {"accuracy": reports[-1].value}))
            if pruned:
                break
        values = [fr.metrics["accuracy"] for fr in folds if fr.metrics]
        state = folds[-1].state
        value = float(np.mean(values)) if values else None
        out.append(Trial(number=i, params=params, state=state, value=value,
                         folds=tuple(folds), reports=tuple(reports), decisions=tuple(decisions),
                         started_at=t0 + i, finished_at=t0 + i + 5.0,
                         error="boom" if failed else None))
    return Trials(out, metric="accuracy")


def time_report(n: int, workdir: Path) -> tuple[float, float, float]:
    """Seconds to build the trials' report (statistics + figures), and the page's size in MB."""
    from hpstudy.report import build_report, write_html

    trials = synthetic_trials(n)
    start = time.perf_counter()
    report = build_report(trials)
    stats = time.perf_counter() - start
    path = write_html(report, workdir / f"report-{n}.html")
    total = time.perf_counter() - start
    return stats, total, path.stat().st_size / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 trials only")
    args = parser.parse_args(argv)
    sizes = (100,) if args.quick else (100, 1_000, 10_000)
    import matplotlib  # noqa: F401  (imported once, outside the timings)

    print(f"{'trials':>8} {'statistics (s)':>15} {'total (s)':>10} {'page (MB)':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            stats, total, mb = time_report(n, Path(tmp))
            print(f"{n:>8,} {stats:>15.2f} {total:>10.2f} {mb:>10.2f}", flush=True)
    print("target: total under 10 s at 1,000 trials on 2 cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
