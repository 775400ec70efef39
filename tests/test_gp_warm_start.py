"""The GP's warm-start chain survives failed trials (issue 8 #12e)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hpstudy.optimizers.gp._data as gp_data
from hpstudy.optimizers.gp import GPOptimizer
from hpstudy.optimizers.gp._data import collect
from hpstudy.optimizers.gp._encoding import Encoder
from hpstudy.space import Real, SearchSpace
from hpstudy.trials import Goal, Trial, Trials, TrialState

SPACE = SearchSpace({"x1": Real(-5, 10), "x2": Real(0, 15)})


def _f(p):
    return (p["x2"] - 0.13 * p["x1"] ** 2 + 1.6 * p["x1"] - 6) ** 2 + 10 * math.cos(p["x1"])


def _history(n: int) -> list[Trial]:
    """n random trials, every tenth one FAILED."""
    out = []
    for i, p in enumerate(SPACE.sample(n, seed=0)):
        failed = i % 10 == 9
        out.append(Trial(number=i, params=p, value=None if failed else _f(p),
                         state=TrialState.FAILED if failed else TrialState.COMPLETE))
    return out


def test_imputed_rows_are_not_observed_and_stay_out_of_the_fit_set():
    enc = Encoder(SPACE)
    data = collect(enc, Trials(_history(30), goal=Goal.MINIMIZE), "worst", "worst")
    assert len(data.y) == 30 and data.observed.count(False) == 3
    X, y = data.fit_set()
    assert len(y) == 27 and np.min(y) == np.min(data.y)  # imputed worst is the observed worst


def test_a_new_worst_value_keeps_the_cached_checkpoints(monkeypatch):
    """Before: the imputed worst changed, so every checkpoint was refitted (~19 fits)."""
    calls = []
    real = gp_data.fit_theta
    monkeypatch.setattr(gp_data, "fit_theta", lambda *a, **k: calls.append(1) or real(*a, **k))
    trials = _history(250)
    opt = GPOptimizer()
    # a running study has made both kinds of fit (two chains of checkpoints): the
    # noise-free one at 224 observed trials (an even number), the noisy one at 225
    opt.ask(SPACE, Trials(trials[:248], goal=Goal.MINIMIZE), 1, np.random.default_rng(2))
    p = opt.ask(SPACE, Trials(trials, goal=Goal.MINIMIZE), 1, np.random.default_rng(0))[0]
    first = len(calls)
    assert first > 20  # both chains, from scratch
    worst = max(t.value for t in trials if t.value is not None)
    trials.append(Trial(number=250, params=p, state=TrialState.COMPLETE, value=worst + 1.0))
    out = opt.ask(SPACE, Trials(trials, goal=Goal.MINIMIZE), 1, np.random.default_rng(1))
    assert len(calls) - first <= 1, len(calls) - first  # at most one new checkpoint
    # and the cache changes nothing: a fresh optimizer asks the same point
    fresh = GPOptimizer().ask(SPACE, Trials(trials, goal=Goal.MINIMIZE), 1,
                              np.random.default_rng(1))
    assert fresh == out


@pytest.mark.parametrize("n_observed", [0, 2])
def test_few_observed_rows_fit_on_every_modelled_row(n_observed):
    enc = Encoder(SPACE)
    trials = [Trial(number=i, params=p, state=TrialState.PRUNED, value=float(i))
              for i, p in enumerate(SPACE.sample(6, seed=1))]
    trials += [Trial(number=6 + i, params=p, state=TrialState.COMPLETE, value=float(i))
               for i, p in enumerate(SPACE.sample(n_observed, seed=2))]
    data = collect(enc, Trials(trials), "worst", "worst")
    X, y = data.fit_set()
    assert len(y) == 6 + n_observed
    out = GPOptimizer().ask(SPACE, Trials(trials), 1, np.random.default_rng(0))
    SPACE.validate(out[0])
