"""Resume is a replay: a stopped study goes on exactly as an uninterrupted one would."""

from __future__ import annotations

import json
import sqlite3

import pytest

import hpstudy
from hpstudy import Study, TrialState
from hpstudy.evaluation import kfold
from hpstudy.storage import EventKind, MemoryStorage


def unsorted_space() -> hpstudy.SearchSpace:
    """Parameter names deliberately out of alphabetical order."""
    return hpstudy.SearchSpace({
        "zeta": hpstudy.Real(0.0, 1.0),
        "alpha": hpstudy.Integer(1, 9),
        "mid": hpstudy.Categorical(["p", "q", "r"]),
    })


def score(params, ctx):
    return params["zeta"] + params["alpha"] / 10 + "pqr".index(params["mid"]) / 5


# ------------------------------------------------------------------ defect 1
@pytest.mark.parametrize("optimizer", ["random", "bayes"])
def test_a_study_loaded_from_its_file_asks_the_uninterrupted_runs_points(tmp_path, optimizer):
    whole = Study(unsorted_space(), storage=tmp_path / "whole.db", seed=5,
                  optimizer=optimizer).run(score, n_trials=8)
    Study(unsorted_space(), storage=tmp_path / "part.db", seed=5,
          optimizer=optimizer).run(score, n_trials=3)
    resumed = Study.load(tmp_path / "part.db")  # what `hpstudy resume` does
    assert resumed.space.names == ("zeta", "alpha", "mid")
    trials = resumed.run(score, n_trials=5)
    assert [t.params for t in trials] == [t.params for t in whole]
    assert [t.value for t in trials] == [t.value for t in whole]


def test_a_file_written_with_sorted_metadata_still_opens(tmp_path):
    """Files of earlier versions hold their metadata with sorted keys: they open and resume."""
    path = tmp_path / "old.db"
    Study(unsorted_space(), storage=path, seed=5).run(score, n_trials=2)
    with sqlite3.connect(path) as conn:  # rewrite the metadata as earlier versions did
        meta = json.loads(conn.execute("SELECT value FROM meta WHERE key='study'").fetchone()[0])
        for key in ("study_id", "stopper"):  # keys earlier versions did not write
            meta.pop(key, None)
        conn.execute("UPDATE meta SET value=? WHERE key='study'", (json.dumps(meta, sort_keys=True),))
    loaded = Study.load(path)
    assert loaded.space.names == ("alpha", "mid", "zeta")  # the order is lost, the study is not
    assert len(loaded.run(score, n_trials=1)) == 3
    again = Study(unsorted_space(), storage=path, seed=5)  # the declared order is accepted too
    assert len(again.run(score, n_trials=1)) == 4


# ------------------------------------------------------------------ defect 6
CALLS: list[tuple[int, int]] = []


def first_fold_goes_wrong(params, ctx):
    """Trial 0's first fold is pruned (or fails, for x < 0); every other fold completes."""
    CALLS.append((ctx.trial_number, ctx.fold.index))
    ctx.report(1, params["x"])
    if (ctx.trial_number, ctx.fold.index) == (0, 0):
        if ctx.params["how"] == "pruned":
            raise hpstudy.TrialPruned("told to stop")
        raise RuntimeError("fold 0 broke")
    return params["x"] + ctx.fold.index


class _Crash(Exception):
    """The coordinating process dies (here: before trial 0's end is written)."""


class CrashBeforeTrialEnd(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.armed = True

    def append(self, kind, number, payload):
        if self.armed and kind is EventKind.TRIAL_FINISHED and number == 0:
            self.armed = False
            raise _Crash
        return super().append(kind, number, payload)


def _space(how: str) -> hpstudy.SearchSpace:
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0), "how": hpstudy.Constant(how)})


@pytest.mark.parametrize("how", ["pruned", "failed"])
def test_resume_does_not_run_the_folds_an_uninterrupted_run_drops(how):
    """A trial whose first fold was pruned (or failed) ends at once; after a crash before its
    end was written, the resumed study ends it the same way, without running its other folds."""
    folds = kfold(12, n_splits=3, seed=0)
    uninterrupted = Study(_space(how), folds=folds, seed=1).run(first_fold_goes_wrong, n_trials=3)
    assert uninterrupted[0].state is TrialState(how)
    assert [f.fold for f in uninterrupted[0].folds] == [0]

    storage = CrashBeforeTrialEnd()
    with pytest.raises(_Crash):
        Study(_space(how), folds=folds, seed=1, storage=storage).run(first_fold_goes_wrong,
                                                                     n_trials=3)
    assert Study(_space(how), folds=folds, seed=1, storage=storage).trials[0].state \
        is TrialState.RUNNING
    CALLS.clear()
    study = Study(_space(how), folds=folds, seed=1, storage=storage)
    resumed = study.run(first_fold_goes_wrong, n_trials=3 - len(study.trials))
    assert all(number != 0 for number, _ in CALLS)  # trial 0 ran nothing again
    assert [t.state for t in resumed] == [t.state for t in uninterrupted]
    assert [t.value for t in resumed] == [t.value for t in uninterrupted]
    def folds_of(trials):
        return [[(f.fold, f.state, dict(f.metrics)) for f in t.folds] for t in trials]

    assert folds_of(resumed) == folds_of(uninterrupted)
    assert not any(e.kind is EventKind.TRIAL_RESTARTED for e in storage.read())


def test_a_study_on_folds_loads_for_reading_without_its_folds(tmp_path):
    """Reading and analysing need no folds object; running more trials asks for it."""
    from hpstudy import ConfigError, evaluation

    folds = evaluation.kfold(20, n_splits=4, seed=0)
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    Study(space, folds=folds, storage=tmp_path / "f.db", seed=0).run(
        lambda p, ctx: p["x"] + 0.01 * ctx.fold.index, n_trials=3, progress=False)
    loaded = Study.load(tmp_path / "f.db")
    assert len(loaded.trials) == 3 and all(len(t.folds) == 4 for t in loaded.trials)
    assert loaded.folds.fingerprint() == folds.fingerprint() and len(loaded.folds) == 4
    with pytest.raises(ConfigError, match="pass the same folds to run more trials"):
        loaded.run(lambda p, ctx: p["x"], n_trials=1)
    assert len(Study.load(tmp_path / "f.db").trials) == 3  # nothing was written
    again = Study.load(tmp_path / "f.db", folds=folds)
    assert len(again.run(lambda p, ctx: p["x"], n_trials=1, progress=False)) == 4
