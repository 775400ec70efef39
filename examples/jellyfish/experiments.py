"""The seed's three experiments, re-run on hpstudy at CPU size.

``python -m examples.jellyfish experiments [--data-dir DIR] [--folds 5] [--jobs 2]``

The seed team reported 0.87 (#1, one split), 0.82 (#2, augmented) and 0.99 (#3, k-fold
on the training folder). Each experiment here is one hpstudy study whose configurations
are the fixed ones of :data:`CONFIGS` (a grid over their names), so every family is
scored on the same folds:

``#1 split``
    the seed's one split: train on Train, score on valid (39 images);
``#2 augment``
    the same split with on-the-fly augmentation (``light`` and ``full`` policies of
    :mod:`examples.jellyfish.augment`; Keras families only: the colour-HOG baseline has no
    augmentation);
``#3 naive``
    stratified k-fold of Train ignoring the copies (the seed's k-fold);
``#3 grouped``
    the same k-fold keeping each photo and its copies on one side
    (:func:`hpstudy.evaluation.audit_image_folder`'s groups).

Scores come with 95 % Wilson intervals: on the 39 valid images for #1 and #2, and on the
out-of-fold predictions of the 900 Train files for #3 (pooled over folds). Those 900 files
are copies of about 300 photos, so the #3 intervals are too narrow (they count copies as
independent images, in both the naive and the grouped folds). The leakage of #3 is naive
minus grouped, in points, for the same configuration on folds of the same size.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import attrs
import numpy as np

__all__ = ["CONFIGS", "ConfigObjective", "main", "run_experiments"]

_KERAS = {"batch_size": 32, "optimizer": "adam", "dropout": 0.3, "img_size": 48}
#: The configurations every experiment scores (name -> params).
CONFIGS: dict[str, dict[str, Any]] = {
    "ColourHOG svc C=10": {"model_name": "ColourHOG", "img_size": 64, "baseline_clf": "svc",
                           "baseline_C": 10.0},
    "ColourHOG logreg C=0.1": {"model_name": "ColourHOG", "img_size": 64,
                               "baseline_clf": "logreg", "baseline_C": 0.1},
    "SmallCNN w16 d3": {"model_name": "SmallCNN", "cnn_width": 16, "cnn_depth": 3,
                        "learning_rate": 3e-3, "epochs": 12, **_KERAS},
    "SmallCNN w8 d2": {"model_name": "SmallCNN", "cnn_width": 8, "cnn_depth": 2,
                       "learning_rate": 1e-2, "epochs": 12, **_KERAS},
}


@attrs.frozen(kw_only=True)
class ConfigObjective:
    """Run :class:`~examples.jellyfish.objective.JellyfishObjective` on a named config.

    The study's only parameter is ``config`` (a key of ``configs``); ``overrides`` are
    merged into every configuration (e.g. ``{"augment": "light"}`` or fewer epochs).
    """

    objective: Any
    configs: dict[str, dict[str, Any]]
    overrides: dict[str, Any] = attrs.field(factory=dict)

    def __call__(self, params: dict, ctx: Any) -> dict[str, float]:
        """Train the named configuration on the task's fold."""
        config = {**self.configs[params["config"]], **self.overrides}
        return self.objective(config, ctx)


def _score(trial: Any, n_val: list[int]) -> tuple[float, Any, float | None]:
    """Pooled accuracy over the trial's folds, its Wilson interval, and mean test accuracy."""
    from hpstudy.stats import proportion_interval

    folds = sorted(trial.folds, key=lambda f: f.fold)
    correct = sum(int(round(f.metrics["val_accuracy"] * n)) for f, n in zip(folds, n_val,
                                                                             strict=True))
    total = sum(n_val)
    tests = [f.metrics["test_accuracy"] for f in folds if "test_accuracy" in f.metrics]
    return correct / total, proportion_interval(correct, total), (float(np.mean(tests))
                                                                  if tests else None)


def _study(name: str, configs: dict, objective: Any, folds: Any, jobs: int, storage: Any,
           overrides: dict | None = None) -> list[tuple[str, float, Any, float | None, int]]:
    import hpstudy

    sweep = {"method": "grid", "metric": {"name": "val_accuracy", "goal": "maximize"},
             "parameters": {"config": {"values": list(configs)}}}
    study = hpstudy.Study.from_sweep(sweep, folds=folds, storage=storage, name=name)
    wrapped = ConfigObjective(objective=objective, configs=configs, overrides=overrides or {})
    trials = study.run(wrapped, n_trials=len(configs), n_jobs=jobs, progress=True)
    n_val = ([len(objective.split_indices(None)[1])] if folds is None
             else [len(f.val) for f in folds])
    rows = []
    for t in trials:
        if t.state is not hpstudy.TrialState.COMPLETE:
            rows.append((t.params["config"], float("nan"), None, None, sum(n_val)))
            continue
        acc, ci, test = _score(t, n_val)
        rows.append((t.params["config"], acc, ci, test, sum(n_val)))
    return rows


def run_experiments(args: argparse.Namespace) -> list[tuple]:
    """Run #1, #2, #3 naive and #3 grouped; returns ``(experiment, config, acc, ci, test, n)``."""
    from examples.jellyfish.audit import audit_data
    from examples.jellyfish.objective import JellyfishObjective, default_threads
    from hpstudy import evaluation

    audit = audit_data(args.data_dir)
    images = audit.images
    configs = {k: dict(v) for k, v in CONFIGS.items()
               if v["model_name"] in args.families}
    if args.epochs:
        for v in configs.values():
            if "epochs" in v:
                v["epochs"] = args.epochs
    objective = JellyfishObjective(data_dir=args.data_dir, threads=default_threads(args.jobs),
                                   cache_dir=args.cache_dir)
    pool = images.indices("train")
    y = images.labels[pool]
    keras_only = {k: v for k, v in configs.items() if v["model_name"] != "ColourHOG"}
    plan = [("#1 split", configs, None, None)]
    plan += [(f"#2 augment {p}", keras_only, None, {"augment": p}) for p in args.augment
             if keras_only]
    plan += [("#3 naive", configs, evaluation.stratified_kfold(y, n_splits=args.folds,
                                                              seed=args.seed), None),
             ("#3 grouped", configs, evaluation.group_kfold(audit.groups[pool], y,
                                                           n_splits=args.folds,
                                                           seed=args.seed), None)]
    out = []
    os.makedirs(args.out, exist_ok=True)
    for name, cfgs, folds, overrides in plan:
        storage = os.path.join(args.out, name.lstrip("#").replace(" ", "-") + ".db")
        if os.path.exists(storage):
            os.remove(storage)
        print(f"\n{name}: {len(cfgs)} configurations x "
              f"{1 if folds is None else len(folds)} fold(s), stored in {storage}")
        for row in _study(f"jellyfish {name}", cfgs, objective, folds, args.jobs, storage,
                          overrides):
            out.append((name, *row))
    return out


def table(rows: list[tuple]) -> str:
    """The results as a Markdown table, with the leakage of #3 (naive - grouped)."""
    grouped = {cfg: acc for exp, cfg, acc, *_ in rows if exp == "#3 grouped"}
    lines = ["| experiment | configuration | score | 95% Wilson | n | test (mean) | leakage |",
             "|---|---|---|---|---|---|---|"]
    for exp, cfg, acc, ci, test, n in rows:
        interval = f"[{ci.low:.3f}, {ci.high:.3f}]" if ci is not None else "-"
        leak = (f"{100 * (acc - grouped[cfg]):+.1f} pts" if exp == "#3 naive" and cfg in grouped
                else "")
        test_s = f"{test:.3f}" if test is not None else "-"
        lines.append(f"| {exp} | {cfg} | {acc:.3f} | {interval} | {n} | {test_s} | {leak} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the experiments, print the table."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    p = argparse.ArgumentParser(prog="python -m examples.jellyfish experiments",
                                description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="default: the embedded copy")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None, help="override the Keras epochs")
    p.add_argument("--families", default="ColourHOG,SmallCNN",
                   help="comma-separated model families of CONFIGS")
    p.add_argument("--augment", default="light,full", help="policies of experiment #2")
    p.add_argument("--cache-dir", default=".jellyfish-cache")
    p.add_argument("--out", default="jellyfish-experiments",
                   help="folder of the studies (one SQLite file each) and results.md")
    args = p.parse_args(argv)
    args.families = tuple(s for s in args.families.split(",") if s)
    args.augment = tuple(s for s in args.augment.split(",") if s)
    rows = run_experiments(args)
    text = table(rows)
    with open(os.path.join(args.out, "results.md"), "w") as fh:
        fh.write(text + "\n")
    print("\n" + text)
    return 0
