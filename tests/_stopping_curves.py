"""Synthetic fold-wise learning curves for the early-stopping tests (importable objectives).

Two architectures: ``fast`` learns quickly to a lower ceiling, ``slow`` learns slowly and
ends best (the curves cross). Each fold's value at each epoch is the curve plus a fold
offset plus the noise of a 300-image validation fold (binomial, sd about 0.026).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

import hpstudy
from hpstudy.evaluation import kfold

EPOCHS = 15
N_VAL = 300


def space() -> hpstudy.SearchSpace:
    return hpstudy.SearchSpace({"model_name": hpstudy.Categorical(("fast", "slow")),
                                "q": hpstudy.Real(0.0, 1.0)})


def true_curve(params: dict, epoch: int) -> float:
    """The noiseless accuracy after ``epoch`` epochs."""
    q = float(params["q"])
    if params["model_name"] == "slow":
        return (0.75 + 0.10 * q) * (1.0 - math.exp(-epoch / 4.0))
    return (0.68 + 0.08 * q) * (1.0 - math.exp(-epoch / 1.5))


def _rng(params: dict, fold: int | None, seed: int) -> np.random.Generator:
    key = f"{params['model_name']}|{float(params['q']):.12f}|{fold}|{seed}".encode()
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:8], "little"))


def observed(params: dict, fold: int | None, seed: int, epochs: int = EPOCHS) -> list[float]:
    """The reported accuracies of one fold: binomial noise of ``N_VAL`` images."""
    rng = _rng(params, fold, seed)
    offset = 0.0 if fold is None else 0.01 * ((fold % 3) - 1)
    out = []
    for e in range(1, epochs + 1):
        p = min(0.999, max(0.001, true_curve(params, e) + offset))
        out.append(rng.binomial(N_VAL, p) / N_VAL)
    return out


def objective(params: dict, ctx) -> float:
    """Report every epoch of the fold's curve; return the last value."""
    fold = ctx.fold_index
    values = observed(params, fold, ctx.seed if fold is not None else 0)
    for epoch, value in enumerate(values, start=1):
        ctx.report(epoch, value)
    return values[-1]


def objective_fold0(params: dict, ctx) -> float:
    """The single-split twin: always fold 0's curve (with fold 0's seed given as ``seed``)."""
    values = observed(params, 0, FOLD0_SEED)
    for epoch, value in enumerate(values, start=1):
        ctx.report(epoch, value)
    return values[-1]


def folds(n_splits: int = 3):
    """Three folds over 900 samples (the objective only reads their index and seed)."""
    return kfold(900, n_splits=n_splits, seed=0)


FOLD0_SEED = int(folds()[0].seed)


def objective_slow(params: dict, ctx) -> float:
    """:func:`objective`, sleeping ``HPSTUDY_TEST_SLEEP`` seconds per epoch (for kill tests)."""
    import os
    import time

    pause = float(os.environ.get("HPSTUDY_TEST_SLEEP", "0"))
    fold = ctx.fold_index
    values = observed(params, fold, ctx.seed if fold is not None else 0)
    for epoch, value in enumerate(values, start=1):
        time.sleep(pause)
        ctx.report(epoch, value)
    return values[-1]
