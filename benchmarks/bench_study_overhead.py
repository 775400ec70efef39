"""Per-trial overhead of the study loop (ask + storage + bookkeeping), random search.

Run: ``python -m benchmarks.bench_study_overhead [--quick]``

The objective is trivial, so the time per trial is the library's own cost. The
peer is Optuna's RandomSampler on the same space, in memory and on SQLite
(skipped when Optuna is not installed). Target: under 5 ms a trial at 1,000 trials.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import hpstudy

SPACE = hpstudy.SearchSpace({
    "lr": hpstudy.Real(1e-5, 1e-3, log=True),
    "dropout": hpstudy.Real(0.2, 0.7),
    "batch_size": hpstudy.Categorical([16, 32, 64]),
    "optimizer": hpstudy.Categorical(["adam", "rmsprop", "sgd"]),
    "layers": hpstudy.Integer(0, 50),
})


def objective(params, ctx):
    return params["dropout"]


def time_hpstudy(n: int, storage: str | None) -> float:
    study = hpstudy.Study(SPACE, storage=storage, seed=0, optimizer="random")
    start = time.perf_counter()
    study.run(objective, n_trials=n, progress=False)
    return (time.perf_counter() - start) / n


def time_optuna(n: int, storage: str | None) -> float | None:
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def opt_objective(trial):
        trial.suggest_float("lr", 1e-5, 1e-3, log=True)
        d = trial.suggest_float("dropout", 0.2, 0.7)
        trial.suggest_categorical("batch_size", [16, 32, 64])
        trial.suggest_categorical("optimizer", ["adam", "rmsprop", "sgd"])
        trial.suggest_int("layers", 0, 50)
        return d

    study = optuna.create_study(direction="maximize", storage=storage,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    start = time.perf_counter()
    study.optimize(opt_objective, n_trials=n)
    return (time.perf_counter() - start) / n


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (10 and 30 trials)")
    args = parser.parse_args(argv)
    sizes = (10, 30) if args.quick else (100, 1000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("memory", "sqlite"):
            for n in sizes:
                path = None if backend == "memory" else str(Path(tmp) / f"h{n}.db")
                ours = time_hpstudy(n, path)
                opath = None if backend == "memory" else f"sqlite:///{Path(tmp) / f'o{n}.db'}"
                peer = time_optuna(n, opath)
                rows.append({"storage": backend, "trials": n, "hpstudy_ms": ours * 1e3,
                             "optuna_ms": None if peer is None else peer * 1e3,
                             "ratio": None if peer is None else peer / ours})
    print(f"{'storage':8} {'trials':>6} {'hpstudy ms/trial':>17} {'optuna ms/trial':>16} "
          f"{'optuna/hpstudy':>15}")
    for r in rows:
        peer = "n/a" if r["optuna_ms"] is None else f"{r['optuna_ms']:.3f}"
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.1f}x"
        print(f"{r['storage']:8} {r['trials']:>6} {r['hpstudy_ms']:>17.3f} {peer:>16} {ratio:>15}")
    worst = max(r["hpstudy_ms"] for r in rows if r["trials"] == max(sizes))
    print(f"target: < 5 ms a trial at {max(sizes)} trials -> worst {worst:.3f} ms: "
          f"{'PASS' if worst < 5 else 'FAIL'}")
    return rows


if __name__ == "__main__":
    main()
