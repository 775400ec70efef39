"""Stoppers in a study: each report judged on its own fold's series; the stopper is stored."""

from __future__ import annotations

import json
import sqlite3

import pytest

import hpstudy
from hpstudy import ConfigError, Study
from hpstudy.evaluation import kfold
from hpstudy.stopping import ASHA, Hyperband, MedianStopper, make_stopper
from hpstudy.storage import EventKind, MemoryStorage
from hpstudy.trials import Goal, Report, Trial, Trials
from tests import _objectives as obj


def space_x():
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


# ------------------------------------------------------------------ defect 5
def _trial(number: int, reports: list[tuple[int, float, int]]) -> Trial:
    return Trial(number=number, params={"x": 0.1 * number},
                 reports=tuple(Report(step=s, value=v, fold=f) for s, v, f in reports))


# folds="each": these tests are about judging one fold's own series (the per-fold rule);
# the default rule, the mean of the folds, is tested in tests/test_stopping_folds.py
STOPPERS = [Hyperband(min_iter=1, eta=3, folds="each"),
            Hyperband(min_iter=2, eta=2, strict=False, folds="each"),
            ASHA(min_resource=1, eta=2, folds="each"), MedianStopper(n_startup_trials=2, folds="each")]


@pytest.mark.parametrize("stopper", STOPPERS, ids=repr)
def test_the_report_passed_is_judged_on_its_folds_series_only(stopper):
    """Folds 0 and 1 of trial 0 run in parallel: fold 1 reported again between fold 0's
    report and its decision. The decision is on fold 0's report, its series, its fold."""
    others = [_trial(1, [(0, 0.5, 0), (0, 0.9, 1), (1, 0.55, 0), (1, 0.95, 1)]),
              _trial(2, [(0, 0.4, 0), (0, 0.8, 1), (1, 0.45, 0), (1, 0.85, 1)]),
              _trial(3, [(0, 0.6, 0), (0, 0.7, 1), (1, 0.65, 0), (1, 0.75, 1)])]
    judged = Report(step=1, value=0.62, fold=0)
    # what the stopper sees: fold 1's newer report (a bad value) came in last
    seen = _trial(0, [(0, 0.5, 0), (0, 0.2, 1), (1, 0.62, 0), (1, 0.1, 1)])
    decision = stopper.decide(seen, Trials([*others, seen]), report=judged)
    # what it must decide: the same as when fold 0's report is the newest
    alone = _trial(0, [(0, 0.5, 0), (0, 0.2, 1), (1, 0.62, 0)])
    expected = stopper.decide(alone, Trials([*others, alone]))
    assert expected is not None
    assert decision == expected
    assert decision.fold == 0 and decision.step == 1


def test_called_without_a_report_the_stoppers_judge_the_last_one():
    seen = _trial(0, [(0, 0.5, 0), (0, 0.2, 1)])
    other = _trial(1, [(0, 0.9, 0), (0, 0.9, 1)])
    hb = Hyperband(min_iter=1, eta=3)
    assert hb.decide(seen, Trials([other, seen])) == \
        hb.decide(seen, Trials([other, seen]), report=seen.reports[-1])


class InterleavingStorage(MemoryStorage):
    """Another fold's worker reports right after each report of fold 0 (the race, made certain)."""

    def append(self, kind, number, payload):
        event_id = super().append(kind, number, payload)
        if kind is EventKind.REPORT and payload["fold"] == 0:
            super().append(EventKind.REPORT, number,
                           {"step": payload["step"], "value": 0.01, "fold": 1})
        return event_id


def test_ctx_report_judges_its_own_report_when_another_fold_reported_since():
    storage = InterleavingStorage()
    storage.initialize({"study_id": "s"})
    for number, (v0, v1) in enumerate([(0.5, 0.9), (0.4, 0.8), (0.0, 0.0)]):
        storage.append(EventKind.TRIAL_CREATED, number, {"params": {"x": v0}, "seed": number})
        if number < 2:
            for fold, value in ((0, v0), (1, v1)):
                hpstudy.storage.MemoryStorage.append(
                    storage, EventKind.REPORT, number, {"step": 0, "value": value, "fold": fold})
    fold0 = list(kfold(12, n_splits=2, seed=0))[0]
    ctx = hpstudy.TrialContext(trial_number=2, seed=0, fold=fold0, params={"x": 0.6},
                               storage=storage, stopper=Hyperband(min_iter=1, eta=3),
                               metric="value", goal=Goal.MAXIMIZE, study_id="s")
    ctx.report(0, 0.6)  # fold 0: 0.6 vs 0.5, 0.4: goes on (fold 1's 0.01 would be pruned)
    decisions = [e.payload for e in storage.read() if e.kind is EventKind.DECISION]
    assert len(decisions) == 1
    assert decisions[0]["value"] == 0.6 and decisions[0]["fold"] == 0
    assert not decisions[0]["stop"] and decisions[0]["threshold"] == 0.5


class TwoArgumentStopper:
    """A stopper written for the earlier protocol, decide(trial, trials)."""

    def decide(self, trial, trials):
        report = trial.reports[-1]
        return hpstudy.StopDecision(step=report.step, stop=report.value < 0.2, rule="old",
                                    value=report.value, threshold=0.2)


class KeywordStopper:
    def __init__(self) -> None:
        self.reports: list = []

    def decide(self, trial, trials, **kwargs):
        self.reports.append(kwargs["report"])
        return None


def test_stoppers_of_both_protocols_work():
    trials = Study(space_x(), stopper=TwoArgumentStopper(), seed=0).run(obj.reporting,
                                                                        n_trials=10)
    assert {t.state for t in trials} == {hpstudy.TrialState.COMPLETE, hpstudy.TrialState.PRUNED}
    keyword = KeywordStopper()
    trials = Study(space_x(), stopper=keyword, seed=0).run(obj.reporting, n_trials=2)
    assert keyword.reports == [r for t in trials for r in t.reports]


# ------------------------------------------------------------------ defect 9
@pytest.mark.parametrize("stopper", [
    Hyperband(min_iter=3, eta=3), Hyperband(max_iter=27, s=2, eta=3, strict=False),
    ASHA(min_resource=2, eta=2, max_resource=16, bootstrap_count=3), ASHA(),
    MedianStopper(n_warmup_steps=2, n_startup_trials=4),
], ids=repr)
def test_built_in_stoppers_round_trip_through_to_dict(stopper):
    settings = stopper.to_dict()
    assert json.loads(json.dumps(settings)) == settings
    assert make_stopper(settings) == stopper


def test_a_stopper_object_is_part_of_the_stored_study(tmp_path):
    path = tmp_path / "s.db"
    hb = Hyperband(min_iter=2, eta=3)
    Study(space_x(), storage=path, seed=0, stopper=hb).run(obj.reporting, n_trials=3)
    assert Study.load(path).stopper == hb  # resumed with it, not with None
    with pytest.raises(ConfigError, match="stopper: differs") as info:
        Study(space_x(), storage=path, seed=0, stopper=MedianStopper())
    assert "hyperband" in str(info.value) and "median" in str(info.value)
    with pytest.raises(ConfigError, match="stopper: differs"):
        Study(space_x(), storage=path, seed=0)  # none at all is another stopper too
    with pytest.raises(ConfigError, match="stopper: differs"):
        Study.load(path, stopper=Hyperband(min_iter=2, eta=2))
    # the same stopper, given as a W&B mapping, is the same study
    same = Study(space_x(), storage=path, seed=0,
                 early_terminate={"type": "hyperband", "min_iter": 2, "eta": 3})
    assert len(same.run(obj.reporting, n_trials=1)) == 4


class Watcher:
    def decide(self, trial, trials, report=None):
        return None


def test_a_user_stopper_is_recorded_by_class_and_must_be_passed_again(tmp_path):
    path = tmp_path / "s.db"
    study = Study(space_x(), storage=path, seed=0, stopper=Watcher())
    study.run(obj.reporting, n_trials=2)
    assert study.meta["stopper"] == {"type": "custom",
                                     "class": "tests.test_study_stopping.Watcher"}
    loaded = Study.load(path)  # reading needs no stopper ...
    assert len(loaded.trials) == 2
    with pytest.raises(ConfigError, match="tests.test_study_stopping.Watcher"):
        loaded.run(obj.reporting, n_trials=1)  # ... resuming does
    with pytest.raises(ConfigError, match="Watcher"):
        Study(space_x(), storage=path, seed=0)
    with pytest.raises(ConfigError, match="stopper: differs"):
        Study.load(path, stopper=Hyperband(min_iter=2))
    assert len(Study.load(path, stopper=Watcher()).run(obj.reporting, n_trials=1)) == 3


def test_a_stopper_must_have_a_decide_method():
    with pytest.raises(ConfigError, match="stopper: must be None or an object with a decide"):
        Study(space_x(), stopper="hyperband")


def test_files_written_before_the_stopper_was_stored_still_open(tmp_path):
    path = tmp_path / "old.db"
    et = {"type": "hyperband", "min_iter": 2, "eta": 3}
    Study(space_x(), storage=path, seed=0, early_terminate=et).run(obj.reporting, n_trials=2)
    with sqlite3.connect(path) as conn:
        meta = json.loads(conn.execute("SELECT value FROM meta").fetchone()[0])
        del meta["stopper"], meta["study_id"]
        conn.execute("UPDATE meta SET value=?", (json.dumps(meta, sort_keys=True),))
    assert Study.load(path).stopper == make_stopper(et)
    assert len(Study(space_x(), storage=path, seed=0, early_terminate=et).trials) == 2
    with pytest.raises(ConfigError, match="stopper: differs"):
        Study(space_x(), storage=path, seed=0, stopper=MedianStopper())
