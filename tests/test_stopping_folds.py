"""Early stopping with k folds: judged as one trial (mean / first / each), noise-aware, warnings."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import hpstudy
from hpstudy import ConfigError, Study, TrialState
from hpstudy.stopping import ASHA, Hyperband, MedianStopper, Noise, make_stopper
from hpstudy.trials import FoldResult, Goal, Report, StopDecision, Trial, Trials
from tests import _stopping_curves as curves

STOPPERS = [Hyperband(min_iter=3, eta=3), ASHA(min_resource=3, eta=3),
            MedianStopper(n_warmup_steps=2, n_startup_trials=3)]


def trial(number, series_by_fold, *, order="serial", folds=(), decisions=()):
    """A trial whose folds reported ``series_by_fold`` (serially, or interleaved by epoch)."""
    if order == "serial":
        reports = [Report(step=e + 1, value=v, fold=f)
                   for f, s in series_by_fold.items() for e, v in enumerate(s)]
    else:
        length = max(len(s) for s in series_by_fold.values())
        reports = [Report(step=e + 1, value=s[e], fold=f) for e in range(length)
                   for f, s in series_by_fold.items() if e < len(s)]
    return Trial(number=number, params={}, reports=tuple(reports), folds=tuple(folds),
                 decisions=tuple(decisions))


# ----------------------------------------------------------------- the rules, one by one
def test_mean_compares_the_trials_fold_mean_with_the_others_means_over_the_same_folds():
    hb = Hyperband(min_iter=1, eta=2)
    others = [trial(0, {0: [0.9], 1: [0.5], 2: [0.1]}),   # mean over folds 0, 1: 0.70
              trial(1, {0: [0.6], 1: [0.6], 2: [0.99]})]  # mean over folds 0, 1: 0.60
    t = trial(2, {0: [0.91], 1: [0.45]}, order="parallel")  # mean 0.68
    d = hb.decide(t, Trials([*others, t]))
    # folds 0 and 1 only (fold 2 is not the trial's): values 0.70, 0.68, 0.60 -> index 1
    assert d.value == pytest.approx(0.68) and d.threshold == pytest.approx(0.68)
    assert not d.stop
    each = Hyperband(min_iter=1, eta=2, folds="each").decide(t, Trials([*others, t]))
    assert each.stop and each.fold == 1 and each.value == 0.45  # fold 1 alone: 0.45 < 0.5


def test_mean_waits_until_every_started_fold_reached_the_bracket():
    hb = Hyperband(min_iter=2, eta=3)
    other = trial(0, {0: [0.9, 0.9], 1: [0.9, 0.9]})
    ahead = trial(1, {0: [0.1, 0.1], 1: [0.1]}, order="parallel")  # fold 1 is at iteration 1
    assert hb.decide(ahead, Trials([other, ahead])) is None
    caught_up = trial(1, {0: [0.1, 0.1], 1: [0.1, 0.1]}, order="parallel")
    assert hb.decide(caught_up, Trials([other, caught_up])).stop


@pytest.mark.parametrize("stopper", STOPPERS, ids=repr)
def test_no_trial_is_pruned_after_one_of_its_folds_finished(stopper):
    others = [trial(n, {0: [0.9] * 6, 1: [0.9] * 6}) for n in range(4)]
    done = FoldResult(fold=0, seed=0, state=TrialState.COMPLETE, metrics={"value": 0.1})
    t = trial(9, {0: [0.1] * 6, 1: [0.1] * 3}, folds=[done])
    assert stopper.decide(t, Trials([*others, t])) is None
    each = attrs_evolve(stopper, folds="each")
    assert each.decide(t, Trials([*others, t])).stop  # today's rule would throw fold 0 away


def attrs_evolve(stopper, **changes):
    import attrs

    return attrs.evolve(stopper, **changes)


@pytest.mark.parametrize("stopper", STOPPERS, ids=repr)
def test_first_judges_only_the_first_fold_and_a_pruned_trial_stops_on_every_fold(stopper):
    first = attrs_evolve(stopper, folds="first")
    others = [trial(n, {0: [0.9] * 6, 1: [0.9] * 6}) for n in range(4)]
    t = trial(9, {0: [0.95] * 3, 1: [0.1] * 3}, order="parallel")
    assert first.decide(t, Trials([*others, t])) is None  # fold 1's report: not judged
    assert not first.decide(t, Trials([*others, t]), report=Report(step=3, value=0.95,
                                                                   fold=0)).stop
    stop = StopDecision(step=3, stop=True, rule="x", value=0.1, threshold=0.9, bracket=0, fold=0)
    pruned = trial(9, {0: [0.1] * 3, 1: [0.95] * 4}, order="parallel", decisions=[stop])
    d = first.decide(pruned, Trials([*others, pruned]))
    assert d.stop and d.fold == 1 and d.rule == "x"


def test_single_split_rules_agree_with_each_other_on_random_studies():
    """With one split, mean, first and each are W&B's rule (the engine port is in
    test_hyperband.py); they must take the same decisions."""
    rng = np.random.default_rng(3)
    for _ in range(40):
        ts = [trial(n, {None: list(rng.normal(size=int(rng.integers(1, 12))).cumsum())})
              for n in range(int(rng.integers(1, 10)))]
        ts = Trials(ts, goal=Goal.MINIMIZE)
        for stopper in STOPPERS:
            base = [attrs_evolve(stopper, folds="each").decide(t, ts) for t in ts]
            for rule in ("mean", "first"):
                assert [attrs_evolve(stopper, folds=rule).decide(t, ts) for t in ts] == base


def test_fold_and_noise_options_round_trip_and_are_checked():
    hb = make_stopper({"type": "hyperband", "min_iter": 3, "folds": "first", "noise": {"n": 300}})
    assert hb.folds == "first" and hb.noise == Noise(n=300)
    assert make_stopper(hb.to_dict()) == hb
    assert "folds" not in Hyperband(min_iter=3).to_dict()  # the default keeps W&B's mapping
    for section, message in [({"folds": "avg"}, "early_terminate.folds: must be one of"),
                             ({"noise": {"n": 0}}, "early_terminate.noise.n: must be an integer"),
                             ({"noise": {"se": "x"}}, "early_terminate.noise.se: must be 'fold'"),
                             ({"noise": {}}, "early_terminate.noise: give exactly one")]:
        with pytest.raises(ConfigError, match=message):
            make_stopper({"type": "asha", "min_iter": 3, **section})
    sweep = hpstudy.Sweep.from_dict({
        "method": "random", "metric": {"name": "acc", "goal": "maximize"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
        "early_terminate": {"type": "hyperband", "min_iter": 3, "folds": "each",
                            "noise": {"se": "fold"}}})
    assert Study.from_sweep(sweep).stopper == Hyperband(min_iter=3, folds="each",
                                                        noise={"se": "fold"})


# ----------------------------------------------------------------- noise-aware thresholds
def test_noise_n_keeps_a_trial_within_one_binomial_standard_error():
    """The issue's case: 0.320 against a threshold of 0.337 on a 300-image fold."""
    others = [trial(n, {None: [0.30, 0.30, v]}) for n, v in enumerate([0.337, 0.45, 0.2, 0.25])]
    close = trial(8, {None: [0.3, 0.3, 0.320]})
    plain = Hyperband(min_iter=3, eta=3)
    aware = Hyperband(min_iter=3, eta=3, noise={"n": 300})
    d = plain.decide(close, Trials([*others, close]))
    assert d.stop and d.threshold == 0.337
    se = math.sqrt(0.337 * 0.663 / 300)  # 0.0273 > 0.017
    assert 0.337 - 0.320 < se
    assert not aware.decide(close, Trials([*others, close])).stop
    far = trial(8, {None: [0.3, 0.3, 0.337 - 1.01 * se]})
    assert aware.decide(far, Trials([*others, far])).stop


def test_noise_se_fold_uses_the_pooled_spread_of_fold_scores_at_the_rung():
    # trials 0..2 at iteration 1 on folds 0, 1: residuals after fold means are +-0.05
    others = [trial(0, {0: [0.60], 1: [0.70]}), trial(1, {0: [0.70], 1: [0.60]}),
              trial(2, {0: [0.65], 1: [0.65]})]
    stopper = Hyperband(min_iter=1, eta=3, noise={"se": "fold"})
    t = trial(3, {0: [0.60]})  # one fold so far: its value is a mean of 1 fold
    ts = Trials([*others, t])
    d = stopper.decide(t, ts)
    # pooled within-trial variance of the centred fold values: (0.005 + 0.005 + 0) / 3
    se = math.sqrt(0.01 / 3)
    assert d.threshold == pytest.approx(0.65) and 0.65 - 0.60 < se and not d.stop
    assert Hyperband(min_iter=1, eta=3).decide(t, ts).stop


# ----------------------------------------------------------------- the situation
def simulate(stopper, *, n_trials, k, rng, parallel):
    """A study on noise-dominated fold curves: every trial equal but for fold noise.

    10 epochs: brackets 3 and 9, none on the last epoch (in a parallel run, the mean rule
    cannot judge a bracket on the last epoch: the first fold to finish ends judging)."""
    done: list[Trial] = []
    for number in range(n_trials):
        values = {f if k > 1 else None: list(0.6 + 0.026 * rng.standard_normal(10))
                  for f in range(k)}
        reports: list[Report] = []
        folds: list[FoldResult] = []
        order = ([(f, e) for e in range(10) for f in values] if parallel
                 else [(f, e) for f in values for e in range(10)])
        stopped = False
        for f, e in order:
            reports.append(Report(step=e + 1, value=values[f][e], fold=f))
            now = Trial(number=number, params={}, reports=tuple(reports), folds=tuple(folds))
            d = stopper.decide(now, Trials([*done, now]), report=reports[-1])
            if d is not None and d.stop:
                stopped = True
                break
            if e == 9:
                folds.append(FoldResult(fold=0 if f is None else f, seed=0,
                                        state=TrialState.COMPLETE, metrics={"value": 0.6}))
        state = TrialState.PRUNED if stopped else TrialState.COMPLETE
        done.append(Trial(number=number, params={}, reports=tuple(reports),
                          folds=tuple(folds), state=state))
    return sum(t.state is TrialState.PRUNED for t in done) / n_trials


@pytest.mark.parametrize("parallel", [False, True], ids=["serial folds", "parallel folds"])
def test_mean_prunes_as_often_as_a_single_split_each_compounds_over_folds(parallel):
    rng = np.random.default_rng(0)
    hb = Hyperband(min_iter=3, eta=3)
    single = np.mean([simulate(hb, n_trials=60, k=1, rng=rng, parallel=parallel)
                      for _ in range(4)])
    mean = np.mean([simulate(hb, n_trials=60, k=3, rng=rng, parallel=parallel)
                    for _ in range(4)])
    each = np.mean([simulate(attrs_evolve(hb, folds="each"), n_trials=60, k=3, rng=rng,
                             parallel=parallel) for _ in range(4)])
    assert abs(mean - single) < 0.08, (single, mean, each)
    assert each > single + 0.1, (single, mean, each)


@pytest.mark.filterwarnings("ignore:.*were pruned:UserWarning")
def test_serial_kfold_mean_prunes_exactly_the_trials_a_single_split_study_prunes():
    """Folds run one after another: the k-fold study judges each trial on its first fold,
    against the first fold of the others, and never after that fold finished; so it
    prunes exactly the trials a single-split study on the first fold's curves prunes."""
    et = {"type": "hyperband", "min_iter": 3, "eta": 3}
    kfold = Study(curves.space(), metric="acc", early_terminate=et, folds=curves.folds(), seed=5)
    kfold.run(curves.objective, n_trials=30)
    single = Study(curves.space(), metric="acc", early_terminate=et, seed=5)
    single.run(curves.objective_fold0, n_trials=30)
    pruned = [t.number for t in kfold.trials if t.state is TrialState.PRUNED]
    assert pruned == [t.number for t in single.trials if t.state is TrialState.PRUNED]
    assert 0 < len(pruned) < 30
    each = Study(curves.space(), metric="acc", early_terminate={**et, "folds": "each"},
                 folds=curves.folds(), seed=5)
    each.run(curves.objective, n_trials=30)
    assert sum(t.state is TrialState.PRUNED for t in each.trials) > len(pruned)
    # no trial of the mean rule lost a finished fold: pruned trials have one fold result
    assert all(len(t.folds) == 1 for t in kfold.trials if t.state is TrialState.PRUNED)


# ----------------------------------------------------------------- warnings
def test_a_mostly_pruned_study_warns_once_with_bracket_threshold_and_margin():
    study = Study(curves.space(), metric="acc", seed=0,
                  early_terminate={"type": "hyperband", "min_iter": 3, "eta": 8})
    with pytest.warns(UserWarning, match=r"were pruned: most at bracket 0 \(step 3\).*"
                                         r"median threshold .* typical margin"):
        study.run(curves.objective_fold0, n_trials=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study.run(curves.objective_fold0, n_trials=2)  # once per study
    calm = Study(curves.space(), metric="acc", seed=0,
                 early_terminate={"type": "median", "n_startup_trials": 5})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calm.run(curves.objective_fold0, n_trials=10)


# ----------------------------------------------------------------- balanced designs
def test_random_and_grid_balance_the_trials_across_a_categorical():
    from collections import Counter

    from hpstudy.optimizers import GridSearch, RandomSearch

    space = hpstudy.SearchSpace({"model_name": hpstudy.Categorical(["a", "b", "c"]),
                                 "x": hpstudy.Categorical([1, 2, 3, 4])})
    study = Study(space, optimizer=RandomSearch(balance="model_name"), seed=0)
    study.run(lambda p, ctx: p["x"], n_trials=10)
    counts = Counter(t.params["model_name"] for t in study.trials)
    assert max(counts.values()) - min(counts.values()) <= 1 and len(counts) == 3
    grid = Study(space, optimizer=GridSearch(balance="model_name"), seed=0)
    grid.run(lambda p, ctx: p["x"], n_trials=7)
    assert [t.params["model_name"] for t in grid.trials] == list("abcabca")
    assert len({tuple(t.params.items()) for t in grid.trials}) == 7
    with pytest.raises(ConfigError, match="balance: parameter 'x' must be categorical|"
                                          "balance: no parameter"):
        Study(hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)}),
              optimizer=RandomSearch(balance="x")).run(lambda p, ctx: 0.0, n_trials=1)
