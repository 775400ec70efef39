"""The jellyfish example's commands.

``python -m examples.jellyfish audit [--data-dir DIR]``
    The leakage audit: augmented copies, near-duplicates within and across splits.
``python -m examples.jellyfish demo [--trials N] [--jobs 2] [--folds 5]``
    The CPU-sized study (``sweep_cpu.yaml``) on grouped folds of Train, then the
    analysis (model / tuning / noise) and the best configuration retrained on all of
    Train and scored on test, with and without the test images that duplicate Train.
``python -m examples.jellyfish study SWEEP [--grouped/--naive] ...``
    Any sweep (e.g. the seed's ``sweep.yaml``) on the data, with folds of your choice.

Without ``--data-dir`` the embedded 128 px copy of the real data set is used.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class _Quiet:
    """A context for training outside a study: reports go nowhere."""

    trial_number, fold = -1, None

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def report(self, step: int, value: float) -> None:
        """Ignore the report."""


def _env() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _folds(audit, args):
    from hpstudy import evaluation

    images = audit.images
    pool = images.indices("train")
    y = images.labels[pool]
    if args.split == "naive":
        return evaluation.stratified_kfold(y, n_splits=args.folds, seed=args.seed)
    if args.split == "holdout":
        valid = images.indices("valid")
        merged = list(pool) + list(valid)
        return evaluation.from_splits([(list(range(len(pool))),
                                        list(range(len(pool), len(merged))))])
    return evaluation.group_kfold(audit.groups[pool], y, n_splits=args.folds, seed=args.seed)


def run_study(args: argparse.Namespace, sweep: str | Path) -> int:
    """Run a sweep on the data with the folds asked for; print the best and the analysis."""
    _env()
    import numpy as np

    import hpstudy
    from examples.jellyfish.audit import audit_data
    from examples.jellyfish.objective import JellyfishObjective, default_threads
    from hpstudy.stats import proportion_interval

    audit = audit_data(args.data_dir)
    images = audit.images
    pool = ("train", "valid") if args.split == "holdout" else ("train",)
    objective = JellyfishObjective(
        data_dir=args.data_dir, pool=pool, weights=args.weights,
        cache_dir=args.cache_dir, threads=default_threads(args.jobs),
        test_exclude=tuple(audit.duplicated("test").tolist()))
    folds = _folds(audit, args)
    if args.storage and os.path.exists(args.storage) and args.fresh:
        os.remove(args.storage)
    study = hpstudy.Study.from_sweep(str(sweep), folds=folds, storage=args.storage,
                                     seed=args.seed, name=f"jellyfish-{args.split}",
                                     **({"optimizer": args.optimizer} if args.optimizer else {}))
    print(f"jellyfish: {args.trials} configurations x {len(folds)} {args.split} folds of "
          f"{len(images.indices(*pool))} images ({images.root}), {args.jobs} worker(s), "
          f"stored in {args.storage}")
    start = time.perf_counter()
    trials = study.run(objective, n_trials=args.trials, n_jobs=args.jobs, progress=True)
    elapsed = time.perf_counter() - start
    counts = {s.value: len(trials.with_state(s)) for s in hpstudy.TrialState}
    print(f"\n{len(trials)} trials in {elapsed:.0f} s: {counts}")
    best = study.best_trial
    if best is None:
        print("no trial completed")
        return 1
    folds_val = [round(f.metrics["val_accuracy"], 3) for f in best.folds]
    print(f"best trial #{best.number}: val_accuracy {best.value:.4f} (folds {folds_val})")
    print(f"  params: {best.params}")
    try:
        print("\n" + hpstudy.analyze(trials, model="model_name").summary())
    except hpstudy.ConfigError as exc:
        print(f"\nno analysis: {exc}")
    from hpstudy.report import write_html

    page = write_html(args.storage, Path(args.storage).with_suffix(".html"), model="model_name")
    print(f"\nreport: {page.resolve()}")
    if args.retrain:
        print("\nThe best configuration retrained on all of Train, scored on test:")
        final = JellyfishObjective(data_dir=args.data_dir, weights=args.weights,
                                   cache_dir=args.cache_dir, threads=default_threads(1),
                                   test_exclude=objective.test_exclude)
        out = final(dict(best.params), _Quiet(seed=args.seed))
        n_test = len(images.indices("test"))
        n_clean = n_test - len(final.test_exclude)
        for key, n in (("test_accuracy", n_test), ("test_accuracy_clean", n_clean)):
            if key in out:
                ci = proportion_interval(int(np.rint(out[key] * n)), n)
                print(f"  {key:<20} {out[key]:.3f}  95% Wilson [{ci.low:.3f}, {ci.high:.3f}] "
                      f"on {n} images")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(prog="python -m examples.jellyfish",
                                     description="The jellyfish example of hpstudy.")
    sub = parser.add_subparsers(dest="command", required=True)
    audit = sub.add_parser("audit", help="leakage audit of an image-folder data set")
    audit.add_argument("--data-dir", default=None, help="default: the embedded copy")
    audit.add_argument("--max-distance", type=int, default=8)
    for name in ("demo", "study"):
        p = sub.add_parser(name, help="the CPU-sized study" if name == "demo" else "any sweep")
        if name == "study":
            p.add_argument("sweep", help="a W&B sweep file, e.g. examples/jellyfish/sweep.yaml")
        p.add_argument("--data-dir", default=None, help="default: the embedded copy")
        p.add_argument("--trials", type=int, default=24 if name == "demo" else 20)
        p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
        p.add_argument("--folds", type=int, default=5)
        p.add_argument("--split", choices=["grouped", "naive", "holdout"], default="grouped",
                       help="grouped k-fold of Train (default), ungrouped k-fold of Train "
                            "(leaks), or the seed's one split: Train / valid")
        p.add_argument("--optimizer", default=None, help="override the sweep's method")
        p.add_argument("--weights", default=None,
                       help="Xception/MobileNetV2 weights: imagenet, a file, or none (default)")
        p.add_argument("--cache-dir", default=".jellyfish-cache")
        p.add_argument("--storage", default=f"jellyfish-{name}.db")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--keep", dest="fresh", action="store_false",
                       help="continue the study in --storage instead of starting afresh")
        p.add_argument("--no-retrain", dest="retrain", action="store_false")
    args = parser.parse_args(argv)
    if getattr(args, "weights", None) == "none":
        args.weights = None
    if args.command == "audit":
        from examples.jellyfish.audit import audit_command

        print(audit_command(args.data_dir, max_distance=args.max_distance))
        return 0
    return run_study(args, HERE / "sweep_cpu.yaml" if args.command == "demo" else args.sweep)


if __name__ == "__main__":
    sys.exit(main())
