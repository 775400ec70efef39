"""The median stopping rule on hand-built trials."""

from __future__ import annotations

import pickle

import pytest

from hpstudy.errors import ConfigError
from hpstudy.stopping import MedianStopper, make_stopper
from hpstudy.trials import Goal, Report, Trial, Trials


def make_trial(number, values, fold=None):
    reports = tuple(Report(step=i + 1, value=float(v), fold=fold) for i, v in enumerate(values))
    return Trial(number=number, params={}, reports=reports)


OTHERS = [make_trial(0, [0.5, 0.7, 0.9]), make_trial(1, [0.6, 0.8, 0.85]),
          make_trial(2, [0.2, 0.4, 0.5])]


def test_compares_best_so_far_with_median_of_running_averages():
    rule = MedianStopper(n_startup_trials=3)
    # iteration 2: running averages 0.6, 0.7, 0.3 -> median 0.6
    t = make_trial(3, [0.5, 0.55])
    d = rule.decide(t, Trials([*OTHERS, t]))
    assert (d.stop, d.value, d.threshold, d.step, d.rule) == (True, 0.55, 0.6, 2, "median")
    t = make_trial(3, [0.61, 0.3])  # best so far 0.61 beats the median
    assert not rule.decide(t, Trials([*OTHERS, t])).stop


def test_minimize():
    rule = MedianStopper(n_startup_trials=3)
    others = [make_trial(t.number, [-r.value for r in t.reports]) for t in OTHERS]
    t = make_trial(3, [-0.5, -0.55])
    d = rule.decide(t, Trials([*others, t], goal=Goal.MINIMIZE))
    assert d.stop and d.threshold == pytest.approx(-0.6)


def test_warmup_and_startup():
    t = make_trial(3, [0.1, 0.1])
    assert MedianStopper(n_warmup_steps=2, n_startup_trials=1).decide(t, Trials([*OTHERS, t])) is None
    assert MedianStopper(n_startup_trials=4).decide(t, Trials([*OTHERS, t])) is None
    late = make_trial(3, [0.1, 0.1, 0.1, 0.1])  # nobody else reached iteration 4
    assert MedianStopper(n_startup_trials=0).decide(late, Trials([*OTHERS, late])) is None


def test_folds_compare_the_same_fold():
    rule = MedianStopper(n_startup_trials=1)
    a = make_trial(0, [0.9], fold=0)
    b = Trial(number=1, params={}, reports=(Report(step=1, value=0.1, fold=1),))
    t = Trial(number=2, params={}, reports=(Report(step=1, value=0.5, fold=1),))
    d = rule.decide(t, Trials([a, b, t]))  # fold 1: 0.5 vs median of {0.1}
    assert d.fold == 1 and not d.stop and d.threshold == 0.1


def test_validation_pickling_and_make_stopper():
    with pytest.raises(ConfigError, match=r"n_warmup_steps: must be >= 0 \(got -1\)"):
        MedianStopper(n_warmup_steps=-1)
    rule = make_stopper({"type": "median", "n_startup_trials": 3})
    assert rule == MedianStopper(n_startup_trials=3)
    assert pickle.loads(pickle.dumps(rule)) == rule
    with pytest.raises(ConfigError, match=r"early_terminate.n_startup_trials: must be an integer"):
        make_stopper({"type": "median", "n_startup_trials": "3"})
