"""Hyperband with W&B's semantics: brackets, thresholds, strictness, goal, folds."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from hpstudy.errors import ConfigError
from hpstudy.stopping import Hyperband, hyperband_brackets, make_stopper
from hpstudy.trials import Goal, Report, Trial, Trials, TrialState

RUNNING, COMPLETE = TrialState.RUNNING, TrialState.COMPLETE


def make_trial(number, values, state=RUNNING, fold=None):
    reports = tuple(Report(step=i, value=float(v), fold=fold) for i, v in enumerate(values))
    return Trial(number=number, params={}, state=state, reports=reports)


def stopped(stopper, trials):
    """Numbers of the RUNNING trials the stopper stops on their latest report."""
    out = []
    for t in trials:
        if t.state is RUNNING:
            d = stopper.decide(t, trials)
            if d is not None and d.stop:
                out.append(t.number)
    return out


# --------------------------------------------------------------------------- brackets
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(max_iter=81, eta=3, s=3), (3, 9, 27)),  # W&B docs and engine tests
        (dict(max_iter=18, eta=3, s=2), (2, 6)),  # W&B engine test_init_from_max_iter
        (dict(max_iter=9, eta=3, s=2), (1, 3)),
        (dict(max_iter=5, eta=2, s=2), (1, 2)),
        (dict(max_iter=27, eta=3, s=5), (1, 3, 9)),  # below 1 is dropped
        (dict(max_iter=100, eta=3, s=2), (11, 33)),  # int() truncates
    ],
)
def test_brackets_from_max_iter(kwargs, expected):
    assert hyperband_brackets(**kwargs) == expected
    assert Hyperband(**kwargs).brackets == expected


def test_brackets_from_min_iter_are_geometric_and_ignore_s():
    b = hyperband_brackets(min_iter=3, eta=3)
    assert b[:5] == (3, 9, 27, 81, 243)
    assert len(b) == 25  # 3 * 3**k up to 10**12: k = 0 .. 24
    # the seed study's section: s is ignored by W&B's engine when min_iter is given
    assert Hyperband(min_iter=3, eta=3, s=2).brackets == b
    # a float eta multiplies as W&B does: 30, 45, 67.5 -> 67, 101.25 -> 101
    assert hyperband_brackets(min_iter=30, eta=1.5)[:4] == (30, 45, 67, 101)
    assert hyperband_brackets(min_iter=2, eta=2)[:3] == (2, 4, 8)


def test_numpy_integers_are_accepted_as_ints():
    hb = Hyperband(max_iter=np.int64(81), s=np.int64(3))
    assert hb.brackets == (3, 9, 27) and type(hb.max_iter) is int and type(hb.s) is int


def test_max_iter_wins_over_min_iter():
    assert Hyperband(min_iter=2, max_iter=81, s=3).brackets == (3, 9, 27)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(), "min_iter: one of min_iter or max_iter"),
        (dict(max_iter=81), "s: required with max_iter"),
        (dict(min_iter=0), "min_iter: must be >= 1 (got 0)"),
        (dict(min_iter=2.5), "min_iter: must be an integer"),
        (dict(min_iter=3, eta=1), "eta: must be > 1 (got 1)"),
        (dict(min_iter=3, eta=float("nan")), "eta: must be a finite number"),
        (dict(max_iter=81, s=0), "s: must be >= 1 (got 0)"),
        (dict(max_iter=2, s=1), "max_iter: max_iter / eta must be >= 1"),
        (dict(min_iter=3, strict="yes"), "strict: must be true or false"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Hyperband(**kwargs)


# --------------------------------------------------------------------------- make_stopper
def test_make_stopper_reads_the_seed_sweep_section():
    hb = make_stopper({"type": "hyperband", "min_iter": 3, "eta": 3, "s": 2})
    assert isinstance(hb, Hyperband)
    assert hb.brackets[:2] == (3, 9) and hb.strict is True and hb.eta == 3
    assert make_stopper({"type": "hyperband", "min_iter": 3}).eta == 3  # W&B's default
    assert make_stopper({"type": "hyperband", "min_iter": 3, "strict": False}).strict is False
    assert make_stopper(None) is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("hyperband", r"early_terminate: must be a mapping"),
        ({"min_iter": 3}, r"early_terminate.type: required"),
        ({"type": "hyperbnd", "min_iter": 3}, r"early_terminate.type: .*did you mean 'hyperband'"),
        ({"type": "hyperband", "min_iter": 3, "etta": 2}, r"early_terminate.etta: unknown key.*'eta'"),
        ({"type": "hyperband", "min_iter": 0}, r"early_terminate.min_iter: must be >= 1"),
        ({"type": "hyperband", "max_iter": 81}, r"early_terminate.s: required"),
        ({"type": "asha", "min_iter": 3, "max_iter": 2}, r"early_terminate.max_iter: must be >"),
    ],
)
def test_make_stopper_errors_name_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        make_stopper(section)


# --------------------------------------------------------------------------- thresholds
def test_wandb_five_runs_example_current_engine():
    # W&B engine's five-run example (max_iter 5, eta 2, s 2 -> brackets 1, 2), minimize.
    # Bracket 2 compares every run's 2nd value: 9, 10, 8, 7, 6 -> sorted[int(5/2)] = 8.
    trials = Trials(
        [
            make_trial(0, [10, 9], COMPLETE),
            make_trial(1, [10, 10]),  # 10 > 8: stopped
            make_trial(2, [10, 8, 8]),  # 8 is not > 8: goes on (the old, off-by-one
            make_trial(3, [10, 7, 7]),  # release compared 3rd values and stopped it)
            make_trial(4, [10, 6, 6], COMPLETE),
        ],
        goal=Goal.MINIMIZE,
    )
    for strict in (True, False):
        hb = Hyperband(max_iter=5, eta=2, s=2, strict=strict)
        assert stopped(hb, trials) == [1]
        assert hb.thresholds(trials) == {1: 10.0, 2: 8.0}
    d = Hyperband(max_iter=5, eta=2, s=2).decide(trials[1], trials)
    assert (d.stop, d.bracket, d.threshold, d.value, d.step) == (True, 1, 8.0, 10.0, 1)
    assert d.rule == "hyperband-strict"


def eta3_trials(sign=1.0):
    goal = Goal.MINIMIZE if sign > 0 else Goal.MAXIMIZE
    rows = [
        (0, [10, 9], COMPLETE),
        (1, [10, 10], RUNNING),
        (2, [10, 8, 8, 3], RUNNING),
        (3, [10, 7, 7, 4], RUNNING),
        (4, [10, 6, 6, 6], RUNNING),
    ]
    return Trials([make_trial(n, [sign * v for v in h], s) for n, h, s in rows], goal=goal)


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["minimize", "maximize"])
def test_strict_judges_the_bracket_value_non_strict_the_best_so_far(sign):
    # brackets 1, 3; bracket 3 threshold: 3rd values 8, 7, 6 -> sorted[int(3/3)] = 7
    trials = eta3_trials(sign)
    strict = Hyperband(max_iter=9, eta=3, s=2, strict=True)
    relaxed = Hyperband(max_iter=9, eta=3, s=2, strict=False)
    assert strict.thresholds(trials) == {1: sign * 10, 3: sign * 7}
    # trial 2 was 8 at iteration 3 (worse than 7) but is 3 now: only strict stops it
    assert stopped(strict, trials) == [2]
    assert stopped(relaxed, trials) == []
    d = relaxed.decide(trials[2], trials)
    assert (d.stop, d.value, d.threshold, d.bracket) == (False, sign * 3, sign * 7, 1)
    d = strict.decide(trials[2], trials)
    assert (d.stop, d.value, d.threshold) == (True, sign * 8, sign * 7)


def test_min_iter_example_of_the_engine_tests():
    trials = Trials([make_trial(0, [10] * 4), make_trial(1, [10 - i for i in range(10)])],
                    goal=Goal.MINIMIZE)
    hb = Hyperband(min_iter=3, eta=3)
    assert stopped(hb, trials) == [0]
    d = hb.decide(trials[1], trials)  # alone at bracket 9: its own value is the threshold
    assert (d.stop, d.bracket, d.threshold) == (False, 1, 2.0)
    accuracy = Trials([make_trial(0, [10] * 4), make_trial(1, [10 + i for i in range(10)])],
                      goal=Goal.MAXIMIZE)
    assert stopped(hb, accuracy) == [0]


def test_a_lone_trial_is_never_stopped_and_no_decision_before_first_bracket():
    hb = Hyperband(max_iter=18, eta=3, s=2)
    lone = make_trial(0, [10 - i for i in range(10)])
    assert not hb.decide(lone, Trials([lone], goal=Goal.MINIMIZE)).stop
    early = make_trial(1, [1.0])
    assert hb.decide(early, Trials([lone, early], goal=Goal.MINIMIZE)) is None
    assert hb.decide(make_trial(2, []), Trials([lone])) is None


def test_threshold_index_int_n_over_eta_of_sorted_values():
    # 9 trials reached bracket 1 with values 1..9 (maximise): sorted best first
    # 9, 8, ..., 1; index int(9/3) = 3 -> threshold 6; 5 and below stop
    trials = Trials([make_trial(n, [float(n + 1)]) for n in range(9)], goal=Goal.MAXIMIZE)
    hb = Hyperband(min_iter=1, eta=3)
    assert hb.thresholds(trials)[1] == 6.0
    assert stopped(hb, trials) == [0, 1, 2, 3, 4]


def test_every_state_counts_for_thresholds():
    hb = Hyperband(min_iter=1, eta=2)
    bad = make_trial(3, [5.0])
    others = [make_trial(0, [9.0], TrialState.PRUNED), make_trial(1, [8.0], TrialState.FAILED),
              make_trial(2, [7.0], COMPLETE)]
    # values 9, 8, 7, 5 -> index int(4/2) = 2 -> threshold 7; 5 < 7 stops
    d = hb.decide(bad, Trials([*others, bad], goal=Goal.MAXIMIZE))
    assert d.stop and d.threshold == 7.0


def test_non_finite_values_are_skipped_as_by_wandb():
    hb = Hyperband(min_iter=2, eta=2)
    t = make_trial(0, [1.0, float("nan"), 2.0])
    other = make_trial(1, [5.0, 5.0])
    third = make_trial(2, [4.0, 4.0])
    # the NaN is not an iteration: trial 0 is at iteration 2 with values 1, 2;
    # 2nd values 5, 4, 2 -> sorted[int(3/2)] = 4
    d = hb.decide(t, Trials([t, other, third], goal=Goal.MAXIMIZE))
    assert d.value == 2.0 and d.threshold == 4.0 and d.stop
    nan_last = make_trial(0, [1.0, 2.0, float("nan")])
    assert hb.decide(nan_last, Trials([nan_last, other])) is None


# --------------------------------------------------------------------------- folds
def test_each_fold_is_compared_with_the_same_fold_of_other_trials():
    hb = Hyperband(min_iter=2, eta=3, folds="each")
    # trial 0: fold 0 is poor (0.5), fold 1 is excellent (0.9)
    r0 = tuple(Report(step=i, value=v, fold=0) for i, v in enumerate([0.4, 0.5]))
    r1 = tuple(Report(step=i, value=v, fold=1) for i, v in enumerate([0.8, 0.9]))
    t0 = Trial(number=0, params={}, reports=r0 + r1)
    # trial 1 on fold 1 only scores 0.6, but on fold 0 it is the best
    s0 = tuple(Report(step=i, value=v, fold=0) for i, v in enumerate([0.7, 0.8]))
    s1 = tuple(Report(step=i, value=v, fold=1) for i, v in enumerate([0.5, 0.6]))
    t1 = Trial(number=1, params={}, reports=s0 + s1)
    trials = Trials([t0, t1], goal=Goal.MAXIMIZE)
    d = hb.decide(t0, trials)  # t0's last report is fold 1: 0.9 vs fold-1 values 0.9, 0.6
    assert d.fold == 1 and not d.stop and d.threshold == 0.9
    d = hb.decide(t1, trials)  # t1's last is fold 1: 0.6 < 0.9 stops
    assert d.fold == 1 and d.stop and d.value == 0.6
    # iteration counts are per fold: fold 0 reports do not advance fold 1
    t2 = Trial(number=2, params={}, reports=s0 + s1[:1])
    assert hb.decide(t2, Trials([t0, t1, t2], goal=Goal.MAXIMIZE)) is None


# --------------------------------------------------------------------------- purity
def test_decisions_are_pure_picklable_and_use_the_newest_copy_of_the_trial():
    hb = Hyperband(min_iter=1, eta=3, strict=False)
    trials = eta3_trials()
    first = [hb.decide(t, trials) for t in trials]
    clone = pickle.loads(pickle.dumps(hb))
    assert clone == hb and clone.brackets == hb.brackets
    assert [clone.decide(t, trials) for t in trials] == first
    assert [hb.decide(t, Trials(list(reversed(list(trials))), goal=Goal.MINIMIZE))
            for t in trials] == first
    # trials holds an older copy of trial 1: the decision uses the trial passed in
    newer = make_trial(1, [10, 10, 1])
    assert hb.decide(newer, trials).value == 1


# --------------------------------------------------------------------------- engine port
def engine_stop(histories, running, bands, eta, strict, maximize):
    """W&B's ``hyperband_stop_runs`` restated: all thresholds first, then every running run."""
    hs = [[-v for v in h] if maximize else list(h) for h in histories]
    thresholds = []
    for band in bands:
        vals = sorted(h[band - 1] for h in hs if len(h) >= band)
        thresholds.append(vals[int((1.0 / eta) * len(vals))] if vals else math.inf)
    out = set()
    for i, h in enumerate(hs):
        if not running[i]:
            continue
        closest, thr = -1, 0.0
        for band, t in zip(bands, thresholds, strict=True):
            if band <= len(h):
                closest, thr = band, t
            else:
                break
        if closest != -1:
            val = h[closest - 1] if strict else min(h)
            if val > thr:
                out.add(i)
    return out


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("maximize", [True, False])
def test_agrees_with_the_engine_on_random_studies(strict, maximize):
    rng = np.random.default_rng(7)
    for case in range(60):
        eta = [2, 3, 1.5, 4][case % 4]
        kwargs = dict(min_iter=int(rng.integers(1, 4)), eta=eta, strict=strict)
        if case % 3 == 0:
            kwargs = dict(max_iter=int(rng.integers(6, 40)), s=int(rng.integers(1, 4)),
                          eta=eta, strict=strict)
        hb = Hyperband(**kwargs)
        n = int(rng.integers(1, 15))
        lengths = rng.integers(1, 30, size=n)
        histories = [list(np.round(rng.normal(size=k).cumsum(), 1)) for k in lengths]
        running = rng.random(n) < 0.6
        goal = Goal.MAXIMIZE if maximize else Goal.MINIMIZE
        trials = Trials([make_trial(i, h, RUNNING if running[i] else COMPLETE)
                         for i, h in enumerate(histories)], goal=goal)
        expected = engine_stop(histories, running, hb.brackets, eta, strict, maximize)
        assert set(stopped(hb, trials)) == expected, (case, kwargs)
