"""Small real studies for the report tests (module-level objectives, tiny and deterministic)."""

from __future__ import annotations

import math

import numpy as np

import hpstudy
from hpstudy import evaluation

BASE = {"svc": 0.93, "knn": 0.915, "logreg": 0.905}


def curve_objective(params, ctx):
    """An accuracy-like curve per fold: model base, a peak at lr = 1e-3, fold and trial noise."""
    rng = np.random.default_rng([ctx.seed, ctx.trial_number])
    target = (BASE[params["model_name"]] - 0.005 * abs(math.log10(params["lr"]) + 3)
              + 0.01 * rng.normal() + 0.004 * ctx.fold.index)
    value = 0.0
    for step in range(1, 7):
        value = target * (1 - 0.5 ** step)
        ctx.report(step, value)
    return {"accuracy": value}


def plain(params, ctx):
    return params["x"] + 0.01 * ctx.fold.index if ctx.fold is not None else params["x"]


def always_fails(params, ctx):
    raise RuntimeError("no data <here>")


def categorical(params, ctx):
    return {"a": 0.1, "b": 0.5, "c": 0.9}[params["opt"]] + (0.05 if params["flag"] == "on" else 0.0)


def multi_model(path, n_trials: int = 24, stopper=None, seed: int = 0) -> hpstudy.Study:
    """Three model families on 4 shared folds, reporting 6 steps each."""
    space = hpstudy.SearchSpace({"model_name": hpstudy.Categorical(["svc", "knn", "logreg"]),
                                 "lr": hpstudy.Real(1e-5, 1e-1, log=True),
                                 "layers": hpstudy.Integer(1, 4)})
    study = hpstudy.Study(space, metric="accuracy", folds=evaluation.kfold(80, n_splits=4, seed=0),
                          storage=path, seed=seed, stopper=stopper, name="three models")
    study.run(curve_objective, n_trials=n_trials, progress=False)
    return study


def one_model(path=None, n_trials: int = 10) -> hpstudy.Study:
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    study = hpstudy.Study(space, folds=evaluation.kfold(30, n_splits=3, seed=0), storage=path,
                          seed=1)
    study.run(plain, n_trials=n_trials, progress=False)
    return study
