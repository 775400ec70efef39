"""The jellyfish example's commands.

``python -m examples.jellyfish audit [--data-dir DIR]``
    The leakage audit: augmented copies, near-duplicates within and across splits.
``python -m examples.jellyfish demo [--trials N] [--jobs 2] [--folds 5] [--sweep FILE]``
    The CPU-sized study (``sweep_cpu.yaml``) on grouped folds of Train, then the
    analysis (model / tuning / noise) and the best configuration retrained on all of
    Train and scored on test, with and without the test images that duplicate Train.
``python -m examples.jellyfish study SWEEP [--split grouped|naive|holdout] ...``
    Any sweep (e.g. the seed's ``sweep.yaml``) on the data, with folds of your choice.
``python -m examples.jellyfish retrain-best STUDY.db [--out DIR]``
    The study's best configuration trained on all of Train, scored, exported
    (``.keras`` + TFLite + ``labels.txt``; joblib for ColourHOG).
``python -m examples.jellyfish predict --model DIR IMAGE...``
    Top classes with probabilities from each exported format.
``python -m examples.jellyfish experiments [--folds 5] ...``
    The seed's experiments #1 (one split), #2 (augmentation), #3 (naive vs grouped
    k-fold) with intervals and the leakage (:mod:`examples.jellyfish.experiments`).

Without ``--data-dir`` the embedded 128 px copy of the real data set is used.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from hpstudy import ConfigError

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


def confirm_study(args: argparse.Namespace) -> int:
    """Search, then confirm: re-run a study's best configurations of each model without
    pruning, on the same folds, and analyse that balanced design."""
    _env()
    import hpstudy
    from examples.jellyfish.audit import audit_data
    from examples.jellyfish.objective import JellyfishObjective, default_threads
    from hpstudy.report import write_html

    audit = audit_data(args.data_dir)
    objective = JellyfishObjective(
        data_dir=args.data_dir, pool=("train",), weights=args.weights,
        cache_dir=args.cache_dir, threads=default_threads(args.jobs),
        test_exclude=tuple(audit.duplicated("test").tolist()))
    search = hpstudy.Study.load(args.study, folds=_folds(audit, args))  # same folds, checked
    print(f"confirm: the {args.top} best configuration(s) of each {args.per_model} of "
          f"{args.study}, without pruning, {args.seeds} seed(s) per fold")
    phase = search.confirm(objective, top=args.top, per_model=args.per_model, seeds=args.seeds,
                           n_jobs=args.jobs, progress=True)
    try:
        print("\n" + hpstudy.analyze(phase.trials, model=args.per_model).summary())
    except hpstudy.ConfigError as exc:
        print(f"\nno analysis: {exc}")
    page = write_html(phase.trials, Path(args.study).with_suffix(".confirm.html"),
                      model=args.per_model)
    print(f"\nreport: {page.resolve()}")
    return 0


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
    recap = [f"best trial #{best.number} ({best.params.get('model_name')}): val_accuracy "
             f"{best.value:.4f}, mean of {len(best.folds)} {args.split} fold(s)"]
    print(f"{recap[0]}; folds {[round(f.metrics['val_accuracy'], 3) for f in best.folds]}")
    print(f"  params: {_used_params(best.params)}")
    try:
        analysis = hpstudy.analyze(trials, model="model_name")
        print("\n" + analysis.summary())
        sh = analysis.decomposition.shares
        recap.append(f"variance of a score: model change {sh.get('model', 0):.0%}, tuning "
                     f"{sh.get('tuning', 0):.0%}, noise {sh.get('folds', 0) + sh.get('residual', 0):.0%}"
                     f" (folds {sh.get('folds', 0):.0%}, residual {sh.get('residual', 0):.0%})")
    except hpstudy.ConfigError as exc:
        print(f"\nno analysis: {exc}")
        recap.append(f"no model/tuning/noise split: {exc}")
    status = 0
    if args.retrain:
        final = JellyfishObjective(data_dir=args.data_dir, weights=args.weights,
                                   cache_dir=args.cache_dir, threads=default_threads(1),
                                   test_exclude=objective.test_exclude)
        out = final(dict(best.params), _Quiet(seed=args.seed))
        n_test = len(images.indices("test"))
        for key, n, what in (("test_accuracy", n_test, "test"),
                             ("test_accuracy_clean", n_test - len(final.test_exclude),
                              "test without copies of Train")):
            if key in out:
                ci = proportion_interval(int(np.rint(out[key] * n)), n)
                recap.append(f"retrained on all of Train, {what}: {out[key]:.3f}, 95% Wilson "
                             f"[{ci.low:.3f}, {ci.high:.3f}] on {n} images")
    from hpstudy.report import write_html

    try:
        page = write_html(args.storage, Path(args.storage).with_suffix(".html"),
                          model="model_name")
        recap.append(f"report: {page.resolve()}")
    except Exception as exc:  # the study is stored: say why the page is missing, go on
        recap.append(f"report NOT written ({type(exc).__name__}: {exc}); "
                     f"retry with: hpstudy report {args.storage}")
        status = 1
    print("\n== Summary ==\n" + "\n".join(recap))
    return status


def _used_params(params: dict) -> dict:
    """The parameters the configuration's family uses (the sweep lists all families')."""
    family = params.get("model_name")
    keras = {"learning_rate", "batch_size", "dropout", "optimizer", "epochs", "augment"}
    own = {"ColourHOG": {"baseline_clf", "baseline_C", "baseline_gamma"},
           "SmallCNN": keras | {"cnn_width", "cnn_depth"},
           "MobileNetV2": keras | {"mobilenet_alpha", "fine_tune_layers"},
           "Xception": keras | {"fine_tune_layers"}}.get(family)
    if own is None:
        return dict(params)
    return {k: v for k, v in params.items() if k in own | {"model_name", "img_size"}}


def _export_command(args: argparse.Namespace) -> int:
    _env()
    from examples.jellyfish.export import predict_text, retrain_best

    if args.command == "predict":
        print(predict_text(args.model, args.images, top=args.top))
        return 0
    info = retrain_best(args.study, args.out, data_dir=args.data_dir, weights=args.weights,
                        seed=args.seed)
    print(f"best trial #{info['trial']} ({info['study_value']:.4f}), retrained on all of "
          f"Train: {info['params']}")
    for s in info["scores"]:
        print(f"  {s['name']:<12} {s['accuracy']:.3f}  95% Wilson [{s['low']:.3f}, "
              f"{s['high']:.3f}] ({s['correct']}/{s['n']})")
    print(f"wrote {', '.join(info['files'])} to {Path(args.out).resolve()}")
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
        else:
            p.add_argument("--sweep", default=str(HERE / "sweep_cpu.yaml"),
                           help="the sweep file (default: sweep_cpu.yaml, the CPU-sized one)")
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
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "experiments":  # its own options (examples/jellyfish/experiments.py)
        from examples.jellyfish.experiments import main as experiments

        return experiments(argv[1:])
    conf = sub.add_parser("confirm", help="re-run a study's best configurations of each "
                          "model without pruning (search, then confirm)")
    conf.add_argument("study", help="the search's SQLite file (from demo or study)")
    conf.add_argument("--top", type=int, default=2, help="configurations per model")
    conf.add_argument("--per-model", default="model_name")
    conf.add_argument("--seeds", type=int, default=1, help="initialisation seeds per fold")
    conf.add_argument("--data-dir", default=None, help="default: the embedded copy")
    conf.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    conf.add_argument("--folds", type=int, default=5, help="as in the search")
    conf.add_argument("--split", choices=["grouped", "naive"], default="grouped",
                      help="as in the search")
    conf.add_argument("--seed", type=int, default=0, help="as in the search")
    conf.add_argument("--weights", default=None)
    conf.add_argument("--cache-dir", default=".jellyfish-cache")
    sub.add_parser("experiments", help="the seed's experiments #1-#3 (see experiments.py)",
                   add_help=False)
    retrain = sub.add_parser("retrain-best", help="train a study's best configuration on all "
                             "of Train, score it, export .keras + TFLite (or joblib)")
    retrain.add_argument("study", help="the study's SQLite file")
    retrain.add_argument("--out", default="jellyfish-model", help="directory to write")
    retrain.add_argument("--data-dir", default=None, help="default: the embedded copy")
    retrain.add_argument("--weights", default=None)
    retrain.add_argument("--seed", type=int, default=0)
    pred = sub.add_parser("predict", help="top classes of images, from every exported format")
    pred.add_argument("--model", required=True, help="a directory written by retrain-best")
    pred.add_argument("--top", type=int, default=3)
    pred.add_argument("images", nargs="+")
    args = parser.parse_args(argv)
    if getattr(args, "weights", None) == "none":
        args.weights = None
    if args.command == "audit":
        from examples.jellyfish.audit import audit_command

        try:
            print(audit_command(args.data_dir, max_distance=args.max_distance))
        except ConfigError as exc:
            print(f"python -m examples.jellyfish audit: error: {exc}", file=sys.stderr)
            return 2
        return 0
    try:
        if args.command == "confirm":
            return confirm_study(args)
        if args.command in ("retrain-best", "predict"):
            return _export_command(args)
        return run_study(args, args.sweep)
    except ConfigError as exc:
        print(f"python -m examples.jellyfish {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
