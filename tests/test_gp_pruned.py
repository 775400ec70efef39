"""Pruned trials in the GP: ``pruned="rung"`` imputes from the trials that passed the rung."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from scipy import stats

import hpstudy
from hpstudy.errors import ConfigError
from hpstudy.optimizers.gp import GPOptimizer
from hpstudy.optimizers.gp._data import MIN_PASSED, collect, rung_imputations
from hpstudy.optimizers.gp._encoding import Encoder
from hpstudy.stopping import Hyperband
from hpstudy.trials import Goal, StopDecision, Trial, Trials, TrialState
from tests import _stopping_curves as curves

SPACE = hpstudy.SearchSpace({"width": hpstudy.Real(0.0, 1.0),
                             "arch": hpstudy.Categorical(("wide", "narrow"))})

# (value judged at step 3, final value or None when pruned there); trial 0 is the slow
# one: 2nd of 9 at the rung, pruned all the same (an early threshold, before the others)
RUNG = [(0.70, None), (0.72, 0.80), (0.69, 0.78), (0.68, 0.83), (0.66, 0.75), (0.65, 0.74),
        (0.60, None), (0.55, None), (0.50, None)]


def _trials(rows, goal: Goal = Goal.MAXIMIZE, step: int = 3) -> Trials:
    sign = goal.sign
    out = []
    for i, (judged, final) in enumerate(rows):
        stop = final is None
        d = StopDecision(step=step, stop=stop, rule="hyperband", value=sign * judged,
                         threshold=sign * 0.71, bracket=0)
        out.append(Trial(number=i, params={"width": 0.1 * i, "arch": "narrow" if i == 0 else "wide"},
                         state=TrialState.PRUNED if stop else TrialState.COMPLETE,
                         value=sign * (judged if stop else final), decisions=(d,)))
    return Trials(out, metric="acc", goal=goal)


def _targets(trials: Trials, pruned: str) -> dict[float, float]:
    data = collect(Encoder(SPACE), trials, "worst", pruned)
    return {round(float(x[0]), 6): y for x, y in zip(data.X, data.y, strict=True)}


def test_a_trial_second_of_nine_is_imputed_near_the_top_of_the_passed_finals():
    trials = _trials(RUNG)
    passed = sorted(f for _, f in RUNG if f is not None)  # 0.74 0.75 0.78 0.80 0.83
    rung = _targets(trials, "rung")[0.0]
    # the oracle: its percentile among the other 8 judged values (scipy), then that
    # percentile of the passed finals by linear interpolation between order statistics
    level = stats.percentileofscore([v for v, _ in RUNG[1:]], 0.70, kind="mean") / 100
    pos = level * (len(passed) - 1)
    expected = passed[int(pos)] + (pos - int(pos)) * (passed[int(pos) + 1] - passed[int(pos)])
    assert level == pytest.approx(7 / 8)
    assert rung == pytest.approx(expected)
    assert passed[-2] <= rung <= passed[-1]  # between the 2nd best and the best
    # today's rule: its own early value, below every final: "not here"
    assert _targets(trials, "worst")[0.0] == pytest.approx(0.70)
    assert 0.70 < passed[0]


def test_ranked_last_at_the_rung_is_imputed_at_the_worst_passed_final_not_below():
    trials = _trials(RUNG)
    targets = _targets(trials, "rung")
    assert targets[round(0.1 * 8, 6)] == pytest.approx(0.74)  # 0.50: last of 9
    assert targets[round(0.1 * 6, 6)] == pytest.approx(np.quantile([0.74, 0.75, 0.78, 0.80, 0.83],
                                                                    2 / 8))  # 0.60: 7th of 9
    assert _targets(trials, "worst")[round(0.1 * 8, 6)] == pytest.approx(0.50)


def test_minimising_is_the_mirror_image():
    up = rung_imputations(_trials(RUNG))
    down = rung_imputations(_trials(RUNG, goal=Goal.MINIMIZE))
    assert set(up) == set(down) == {0, 6, 7, 8}
    for k in up:
        assert down[k] == pytest.approx(up[k])  # targets are sign * value: the same


def test_too_few_passed_trials_fall_back_to_the_worst_rule():
    rows = [(0.70, None), (0.72, 0.80)] + [(0.5 - 0.01 * i, None) for i in range(5)]
    assert MIN_PASSED == 2
    trials = _trials(rows)
    assert rung_imputations(trials) == {}
    assert _targets(trials, "rung") == _targets(trials, "worst")


def test_only_trials_judged_at_the_same_step_count():
    # the pruned trial stopped at step 9; the passed trials were judged at step 3 only
    early = _trials(RUNG[1:6])
    late = Trial(number=9, params={"width": 0.95, "arch": "narrow"}, state=TrialState.PRUNED,
                 value=0.9, decisions=(StopDecision(step=9, stop=True, rule="asha", value=0.9),))
    trials = Trials([*early, late], metric="acc", goal=Goal.MAXIMIZE)
    assert 9 not in rung_imputations(trials)


def test_pruned_rule_is_validated_and_shown():
    assert "pruned='rung'" in repr(GPOptimizer(pruned="rung"))
    with pytest.raises(ConfigError, match="pruned"):
        GPOptimizer(pruned="ranks")


def _slow_after_pruned(pruned: str, seed: int) -> tuple[int, int]:
    study = hpstudy.Study(curves.space(), metric="acc", seed=seed,
                          optimizer=GPOptimizer(pruned=pruned),
                          stopper=Hyperband(min_iter=3, eta=3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trials = study.run(curves.objective, n_trials=20, progress=False)
    slow = [t for t in trials if t.params["model_name"] == "slow"]
    first = next(t.number for t in slow if t.state is TrialState.PRUNED)
    return sum(t.number > first for t in slow), len(trials)


def test_the_slow_architecture_is_still_sampled_after_it_was_pruned(caplog):
    """Synthetic fold-wise curves (tests/_stopping_curves.py): ``slow`` trails at the
    first rung (epoch 3) and ends best; Hyperband prunes it there."""
    caplog.set_level(logging.ERROR, logger="hpstudy.study")
    # Eight studies, not two: how often a single study comes back to ``slow`` varies a lot
    # with the seed (1 to 16 times), and the initial design of mixed spaces (issue 10's
    # catcont6 change) moved seed 0 from 5 to 2 (over 20 other seeds the counts did not
    # change: Mann-Whitney p = 0.82).
    later = [_slow_after_pruned("rung", seed)[0] for seed in range(8)]
    assert min(later) >= 1 and np.mean(later) >= 3, later


@pytest.mark.slow
def test_the_rung_rule_samples_the_pruned_slow_architecture_more_than_the_worst_rule(caplog):
    """The same twelve studies under both rules: after ``slow`` was first pruned, the rung
    rule keeps sampling it (it ends best), clearly more than ``min(own, worst)`` does.

    Twelve, not six: with the initial design of mixed spaces of issue 10's catcont6
    change the first six gave 21 against 20 (the twelve 68 against 51; with the design
    before 31 against 20 and 67 against 38).
    """
    caplog.set_level(logging.ERROR, logger="hpstudy.study")
    seeds = range(12)
    rung = [_slow_after_pruned("rung", s)[0] for s in seeds]
    worst = [_slow_after_pruned("worst", s)[0] for s in seeds]
    assert min(rung) >= 1, rung  # every study comes back to it
    assert sum(rung) > 1.2 * sum(worst), (rung, worst)


@pytest.mark.slow
def test_the_benchmark_runs(capsys):
    from benchmarks import bench_pruned_gp

    bench_pruned_gp.main(["--quick"])
    out = capsys.readouterr().out
    assert "p vs worst" in out
    assert all(f" {rule} " in out for rule in ("worst", "rung", "pending"))


def test_rung_is_the_default():
    assert GPOptimizer().pruned == "rung"
