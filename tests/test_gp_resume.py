"""Exactness on resume: the GP's suggestion is a function of the recorded trials alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hpstudy
from hpstudy import Study
from hpstudy.optimizers.gp import GPOptimizer
from hpstudy.trials import Goal, Trial, Trials, TrialState


def _space() -> hpstudy.SearchSpace:
    return hpstudy.SearchSpace({
        "x": hpstudy.Real(0.0, 1.0),
        "lr": hpstudy.Real(1e-4, 1.0, log=True),
        "n": hpstudy.Integer(1, 9),
        "c": hpstudy.Categorical(["p", "q", "r"]),
    })


def _loss(p) -> float:
    return ((p["x"] - 0.3) ** 2 + (math.log10(p["lr"]) + 2) ** 2 / 10 + p["n"] / 20
            + "pqr".index(p["c"]) / 7)


def test_a_resumed_bayes_study_asks_bit_for_bit_the_same_points(tmp_path):
    def score(params, ctx):
        return _loss(params)

    whole = Study(_space(), storage=tmp_path / "whole.db", seed=3,
                  optimizer="bayes").run(score, n_trials=12)
    Study(_space(), storage=tmp_path / "part.db", seed=3, optimizer="bayes").run(score, n_trials=6)
    # a new Study object on the same file: nothing of the first one's GP survives
    rest = Study(_space(), storage=tmp_path / "part.db", seed=3,
                 optimizer="bayes").run(score, n_trials=6)
    assert len(rest) == 12
    assert [t.params for t in rest] == [t.params for t in whole]  # exact equality of floats
    assert [t.value for t in rest] == [t.value for t in whole]


@pytest.mark.slow
def test_a_fresh_optimizer_asks_what_a_long_running_one_asks():
    """Past the warm-start checkpoints (50, 55, ...) and REFIT_MAX (100) too."""
    space, opt, trials, asked = _space(), GPOptimizer(), [], []
    for i in range(106):
        p = opt.ask(space, Trials(trials, goal=Goal.MINIMIZE), 1, np.random.default_rng([1, i]))[0]
        asked.append(p)
        trials.append(Trial(number=i, params=p, state=TrialState.COMPLETE, value=_loss(p)))
    for i in (9, 52, 61, 105):  # a resume at trial i: a new optimizer, the first i trials
        fresh = GPOptimizer().ask(space, Trials(trials[:i], goal=Goal.MINIMIZE), 1,
                                  np.random.default_rng([1, i]))[0]
        assert fresh == asked[i], i
