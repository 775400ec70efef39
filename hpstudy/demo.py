"""The main job of ``make demo``: a small real study on scikit-learn's bundled digits.

Three model families (an RBF support-vector machine, k-nearest neighbours and
logistic regression) and their hyperparameters, declared as a W&B sweep; every
configuration is scored on the same five stratified folds (paired comparisons);
the study is stored in SQLite, so it survives a crash (``hpstudy resume``). At
the end it prints the best trial and the analysis: how much of the accuracy's
variance comes from the model family, how much from tuning, how much is noise.

Random search is the default because a variance decomposition needs
configurations drawn from the space, not chosen by an optimizer; pass
``--optimizer bayes`` to see the GP find a good configuration instead.

Run: ``python -m hpstudy.demo [--trials 30] [--jobs 2] [--optimizer random]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

SWEEP = {
    "method": "random",
    "metric": {"name": "accuracy", "goal": "maximize"},
    "parameters": {
        "model_name": {"values": ["svc", "knn", "logreg"]},
        "C": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e3},
        "gamma": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
        "n_neighbors": {"distribution": "int_uniform", "min": 1, "max": 30},
        "weights": {"values": ["uniform", "distance"]},
    },
}


def _data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data / 16.0, digits.target


def make_model(params: dict, seed: int):
    """The scikit-learn estimator a configuration describes (unused parameters ignored)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    name = params["model_name"]
    if name == "svc":
        return SVC(C=params["C"], gamma=params["gamma"], random_state=seed)
    if name == "knn":
        return KNeighborsClassifier(n_neighbors=params["n_neighbors"], weights=params["weights"])
    return LogisticRegression(C=params["C"], max_iter=300, random_state=seed)


def objective(params: dict, ctx) -> dict:
    """Fit on the fold's training part, score accuracy on its validation part."""
    X, y = _data()
    model = make_model(params, ctx.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of extreme C values
        model.fit(X[ctx.fold.train], y[ctx.fold.train])
    return {"accuracy": float(model.score(X[ctx.fold.val], y[ctx.fold.val]))}


def main(argv: list[str] | None = None) -> int:
    import hpstudy
    from hpstudy import evaluation, stats

    parser = argparse.ArgumentParser(description="hpstudy demo: digits, 3 model families")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--optimizer", default="random")
    parser.add_argument("--storage", default="demo-study.db")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if os.path.exists(args.storage):
        os.remove(args.storage)  # a fresh demo each time; `hpstudy status` reads it afterwards
    _, y = _data()
    folds = evaluation.stratified_kfold(y, n_splits=5, seed=args.seed)
    study = hpstudy.Study.from_sweep(SWEEP, optimizer=args.optimizer, folds=folds,
                                     storage=args.storage, seed=args.seed, name="digits-demo")
    print(f"hpstudy demo: {args.trials} configurations x {len(folds)} folds on the digits "
          f"({len(y)} images), {args.optimizer} search, {args.jobs} worker(s), "
          f"stored in {args.storage}")
    start = time.perf_counter()
    trials = study.run(objective, n_trials=args.trials, n_jobs=args.jobs)
    elapsed = time.perf_counter() - start
    counts = {s.value: len(trials.with_state(s)) for s in hpstudy.TrialState}
    print(f"\n{len(trials)} trials in {elapsed:.1f} s: {counts}")
    best = study.best_trial
    if best is None:
        print("no trial completed: nothing to analyse")
        return 1
    used = {"svc": ("C", "gamma"), "knn": ("n_neighbors", "weights"), "logreg": ("C",)}
    shown = {k: best.params[k] for k in ("model_name", *used[best.params["model_name"]])}
    fold_values = [f.metrics["accuracy"] for f in best.folds]
    print(f"best trial #{best.number}: accuracy {best.value:.4f} "
          f"(folds {np.round(fold_values, 3).tolist()}) with {shown}")
    print()
    try:
        analysis = stats.analyze(trials, model="model_name")
    except hpstudy.ConfigError as exc:  # too few complete configurations of some model
        print(f"model comparison refused: {exc}")
        analysis = stats.analyze(trials, model=None)
    print(analysis.summary())
    from hpstudy.report import write_html

    page = write_html(args.storage, os.path.splitext(args.storage)[0] + ".html", model="model_name")
    print(f"\nreport: {page.resolve()} (open it in a browser; `hpstudy report` makes it again)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
