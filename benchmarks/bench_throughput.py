"""Throughput with 1, 2 and 4 workers: hpstudy's process pool, hpstudy on Dask, Optuna.

Run: ``python -m benchmarks.bench_throughput [--quick]``

Two objectives, each with 5 reports per trial: a sleep-bound one (0.2 s a step,
1 s a trial: I/O or a GPU) and a CPU-bound one (a pure-Python loop, 5 x 0.05 s).
Every trial reports a flat curve through the library's channel (hpstudy:
``ctx.report`` with a Hyperband stopper, asked at every report; Optuna:
``trial.report`` + ``trial.should_prune`` with its MedianPruner; neither stops a
flat curve, so every trial does the same work) and the
objective times those calls itself, so the table shows:

* ``wall``: seconds for the whole run (pool and Optuna: process start included;
  Dask: the cluster is started before, as a cluster is long-lived; its start is
  printed apart);
* ``speedup``: wall with 1 worker / wall with this many;
* ``task ms``: per-task overhead, ``(wall x workers - time inside objectives) / trials``;
* ``report ms``: the mean time of one report call, measured inside the objective.

The peer is Optuna (the ``bench`` extra) running as many processes on one
``JournalStorage`` file, each ``optimize``-ing its share of the trials: its
documented way to run in parallel. Goal: 4 Dask workers on the sleep-bound
objective at least 3x faster than 1. On a 2-core machine the CPU-bound
objective cannot scale past 2 workers, whatever the library.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

import hpstudy
from hpstudy.stopping import Hyperband

SPACE = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
STEPS = 5
SLEEP_S = 0.2
CPU_S = 0.05


def _work(kind: str) -> None:
    if kind == "sleep":
        time.sleep(SLEEP_S)
        return
    end = time.thread_time() + CPU_S
    while time.thread_time() < end:
        sum(i * i for i in range(200))


def _run_objective(kind: str, x: float, report) -> dict[str, float]:
    start, in_reports = time.perf_counter(), 0.0
    for step in range(STEPS):
        _work(kind)
        t = time.perf_counter()
        report(step, 1.0)  # a flat curve: asked at every report, no stopper ever stops it
        in_reports += time.perf_counter() - t
    return {"value": x, "inside_s": time.perf_counter() - start, "report_s": in_reports / STEPS}


def sleep_objective(params, ctx):
    return _run_objective("sleep", params["x"], ctx.report)


def cpu_objective(params, ctx):
    return _run_objective("cpu", params["x"], ctx.report)


OBJECTIVES = {"sleep": sleep_objective, "cpu": cpu_objective}


def _summary(wall: float, workers: int, metrics: list[dict]) -> dict[str, float]:
    inside = sum(m["inside_s"] for m in metrics)
    return {"wall": wall, "task_ms": 1e3 * (wall * workers - inside) / len(metrics),
            "report_ms": 1e3 * sum(m["report_s"] for m in metrics) / len(metrics)}


def _metrics(trials) -> list[dict]:
    return [t.metrics for t in trials if t.metrics]


def _stopper() -> Hyperband:
    return Hyperband(min_iter=1, eta=2)


def time_pool(kind: str, workers: int, n: int, folder: Path) -> dict[str, float]:
    path = folder / f"pool-{kind}-{workers}.db"
    study = hpstudy.Study(SPACE, storage=path, seed=0, stopper=_stopper())
    start = time.perf_counter()
    trials = study.run(OBJECTIVES[kind], n_trials=n, n_jobs=workers, progress=False)
    return _summary(time.perf_counter() - start, workers, _metrics(trials))


def time_dask(kind: str, client, workers: int, n: int, folder: Path) -> dict[str, float]:
    path = folder / f"dask-{kind}-{workers}.db"
    study = hpstudy.Study(SPACE, storage=path, seed=0, stopper=_stopper())
    start = time.perf_counter()
    trials = study.run(OBJECTIVES[kind], n_trials=n, client=client, progress=False)
    return _summary(time.perf_counter() - start, workers, _metrics(trials))


# ----------------------------------------------------------------------------- Optuna
def _optuna_worker(kind: str, journal: str, n: int) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(journal))
    study = optuna.load_study(study_name="bench", storage=storage,
                              sampler=optuna.samplers.RandomSampler())

    def objective(trial):
        x = trial.suggest_float("x", 0.0, 1.0)

        def report(step, value):
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()

        m = _run_objective(kind, x, report)
        trial.set_user_attr("inside_s", m["inside_s"])
        trial.set_user_attr("report_s", m["report_s"])
        return m["value"]

    study.optimize(objective, n_trials=n)


def time_optuna(kind: str, workers: int, n: int, folder: Path) -> dict[str, float] | None:
    try:
        import optuna
    except ImportError:
        return None
    journal = str(folder / f"optuna-{kind}-{workers}.log")
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(journal))
    optuna.create_study(study_name="bench", storage=storage, direction="maximize",
                        pruner=optuna.pruners.MedianPruner())
    context = multiprocessing.get_context("spawn")
    shares = [n // workers + (k < n % workers) for k in range(workers)]
    start = time.perf_counter()
    procs = [context.Process(target=_optuna_worker, args=(kind, journal, share))
             for share in shares if share]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    trials = optuna.load_study(study_name="bench", storage=storage).trials
    metrics = [dict(t.user_attrs) for t in trials if "inside_s" in t.user_attrs]
    return _summary(wall, workers, metrics)


# ----------------------------------------------------------------------------- main
def _row(name: str, workers: int, r: dict | None, base: dict | None) -> str:
    if r is None:
        return f"{name:<14}{workers:>8}   (not installed)"
    speedup = base["wall"] / r["wall"] if base else float("nan")
    return (f"{name:<14}{workers:>8}{r['wall']:>9.2f}{speedup:>9.2f}{r['task_ms']:>10.1f}"
            f"{r['report_ms']:>11.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_throughput")
    parser.add_argument("--quick", action="store_true", help="8 trials per run (default 16)")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--objectives", default="sleep,cpu")
    parser.add_argument("--trials", type=int, default=None, help="trials per run (overrides)")
    args = parser.parse_args(argv)
    n = args.trials or (8 if args.quick else 16)
    counts = [int(w) for w in args.workers.split(",")]
    kinds = args.objectives.split(",")
    import distributed

    results: dict[tuple[str, str, int], dict | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for workers in counts:
            start = time.perf_counter()
            with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                          dashboard_address=None) as cluster, \
                    distributed.Client(cluster) as client:
                client.run(__import__, __name__)  # workers import the objectives once
                print(f"(Dask LocalCluster of {workers}: started in "
                      f"{time.perf_counter() - start:.1f} s, not counted)", flush=True)
                for kind in kinds:
                    results[kind, "dask", workers] = time_dask(kind, client, workers, n, folder)
            for kind in kinds:
                results[kind, "pool", workers] = time_pool(kind, workers, n, folder)
                results[kind, "optuna", workers] = time_optuna(kind, workers, n, folder)
    for kind in kinds:
        per_trial = STEPS * (SLEEP_S if kind == "sleep" else CPU_S)
        print(f"\n{kind}-bound objective: {n} trials x {STEPS} reports, {per_trial:.2f} s of "
              f"work a trial")
        print(f"{'library':<14}{'workers':>8}{'wall s':>9}{'speedup':>9}{'task ms':>10}"
              f"{'report ms':>11}")
        for name, label in (("dask", "hpstudy dask"), ("pool", "hpstudy pool"),
                            ("optuna", "optuna journal")):
            base = results.get((kind, name, counts[0]))
            for workers in counts:
                print(_row(label, workers, results[kind, name, workers], base))
        dask = {w: results[kind, "dask", w] for w in counts}
        if 1 in dask and 4 in dask:
            ratio = dask[1]["wall"] / dask[4]["wall"]  # type: ignore[index]
            goal = "  (goal >= 3x: " + ("met" if ratio >= 3 else "NOT met") + ")" \
                if kind == "sleep" else ""
            print(f"Dask 4 workers vs 1: {ratio:.2f}x{goal}")
        for workers in counts:
            d, o = results[kind, "dask", workers], results[kind, "optuna", workers]
            if d and o:
                print(f"{workers} workers: hpstudy dask / optuna wall = {d['wall'] / o['wall']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
