"""ASHA: rungs, asynchronous top-1/eta promotion, bootstrap, goal and folds."""

from __future__ import annotations

import pickle

import pytest

from hpstudy.errors import ConfigError
from hpstudy.stopping import ASHA, make_stopper
from hpstudy.trials import Goal, Report, Trial, Trials, TrialState


def make_trial(number, values, fold=None, state=TrialState.RUNNING):
    reports = tuple(Report(step=i + 1, value=float(v), fold=fold) for i, v in enumerate(values))
    return Trial(number=number, params={}, state=state, reports=reports)


@pytest.mark.parametrize(
    ("kwargs", "rungs"),
    [
        (dict(min_resource=1, eta=3, max_resource=27), (1, 3, 9)),
        (dict(min_resource=3, eta=3, max_resource=25), (3, 9)),  # the seed study's epochs
        (dict(min_resource=1, eta=2, max_resource=10), (1, 2, 4, 8)),
        (dict(min_resource=2, eta=1.5, max_resource=10), (2, 3, 4, 6)),
    ],
)
def test_rungs(kwargs, rungs):
    assert ASHA(**kwargs).rungs == rungs


def test_rungs_without_max_resource_are_geometric():
    assert ASHA(min_resource=3, eta=3).rungs[:4] == (3, 9, 27, 81)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(min_resource=0), r"min_resource: must be >= 1 \(got 0\)"),
        (dict(eta=1), r"eta: must be > 1 \(got 1\)"),
        (dict(min_resource=3, max_resource=3), r"max_resource: must be > min_resource"),
        (dict(bootstrap_count=-1), r"bootstrap_count: must be >= 0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ASHA(**kwargs)


def test_keeps_the_top_third_asynchronously():
    asha = ASHA(min_resource=1, eta=3, max_resource=9)
    goal = Goal.MAXIMIZE
    done = []
    verdicts = []
    # trials arrive one by one at rung 1 with these values
    for n, v in enumerate([0.5, 0.7, 0.6, 0.9, 0.8, 0.4]):
        t = make_trial(n, [v])
        d = asha.decide(t, Trials([*done, t], goal=goal))
        verdicts.append(d.stop)
        done.append(t)
    # n=1: alone, goes on; n=2: 0.7 best of 2 (keep 1); n=3: 0.6 not best of 3;
    # n=4: 0.9 best; n=5: 0.8 is 2nd of 5 (keep floor(5/3) = 1); n=6: keep 2, 0.4 last
    assert verdicts == [False, False, True, False, True, True]


def test_only_rung_reports_get_decisions_and_value_is_at_the_rung():
    asha = ASHA(min_resource=1, eta=3, max_resource=9)
    others = [make_trial(0, [0.9, 0.9, 0.9]), make_trial(1, [0.8, 0.8, 0.8]),
              make_trial(2, [0.7, 0.7, 0.7])]
    t = make_trial(3, [0.1, 0.95])
    assert asha.decide(t, Trials([*others, t])) is None  # iteration 2 is no rung
    t = make_trial(3, [0.1, 0.95, 0.95])
    d = asha.decide(t, Trials([*others, t]))
    # rung 3: values 0.95, 0.9, 0.8, 0.7 -> keep floor(4/3) = 1: 0.95 goes on
    assert (d.stop, d.bracket, d.threshold, d.value, d.step) == (False, 1, 0.95, 0.95, 3)


def test_minimize_and_ties_go_on():
    asha = ASHA(min_resource=1, eta=2)
    trials = [make_trial(0, [1.0]), make_trial(1, [2.0])]
    t = make_trial(2, [1.0])
    d = asha.decide(t, Trials([*trials, t], goal=Goal.MINIMIZE))
    assert not d.stop and d.threshold == 1.0  # tie with the best: keep
    t = make_trial(2, [1.5])
    assert asha.decide(t, Trials([*trials, t], goal=Goal.MINIMIZE)).stop


def test_bootstrap_count_delays_stopping():
    asha = ASHA(min_resource=1, eta=3, bootstrap_count=3)
    first = make_trial(0, [0.9])
    t = make_trial(1, [0.1])
    d = asha.decide(t, Trials([first, t]))
    assert not d.stop and d.threshold is None
    third = make_trial(2, [0.5])
    t = make_trial(3, [0.1])
    assert asha.decide(t, Trials([first, third, t])).stop


def test_folds_are_compared_fold_by_fold():
    asha = ASHA(min_resource=1, eta=2, folds="each")
    a = Trial(number=0, params={}, reports=(Report(step=1, value=0.9, fold=0),
                                            Report(step=1, value=0.2, fold=1)))
    b = Trial(number=1, params={}, reports=(Report(step=1, value=0.1, fold=0),
                                            Report(step=1, value=0.8, fold=1)))
    d = asha.decide(b, Trials([a, b]))  # b's last report is fold 1: 0.8 vs 0.2
    assert d.fold == 1 and not d.stop
    # by default the trial is judged on its fold mean: 0.45 vs a's 0.55
    d = ASHA(min_resource=1, eta=2).decide(b, Trials([a, b]))
    assert d.stop and d.value == pytest.approx(0.45) and d.threshold == pytest.approx(0.55)


def test_pure_and_picklable():
    asha = ASHA(min_resource=1, eta=3, max_resource=9)
    trials = Trials([make_trial(n, [0.1 * n]) for n in range(6)])
    first = [asha.decide(t, trials) for t in trials]
    clone = pickle.loads(pickle.dumps(asha))
    assert clone == asha and [clone.decide(t, trials) for t in trials] == first


def test_make_stopper_builds_asha():
    asha = make_stopper({"type": "asha", "min_iter": 3, "max_iter": 25, "eta": 3})
    assert isinstance(asha, ASHA) and asha.rungs == (3, 9)
