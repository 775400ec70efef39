"""A storage that fails stops the run with a StorageError: nothing recorded twice, nothing lost."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter

import pytest

import hpstudy
from hpstudy import Study, TrialState
from hpstudy.errors import DuplicateEventError, StorageError
from hpstudy.evaluation import kfold
from hpstudy.storage import EventKind, MemoryStorage, SQLiteStorage
from tests import _objectives as obj


class _Connection:
    """An sqlite3 connection whose inserts into the event log fail as the disk says."""

    def __init__(self, conn: sqlite3.Connection, storage: FailingDisk) -> None:
        self._conn, self._storage = conn, storage

    def execute(self, sql: str, *args):
        if sql.startswith("INSERT INTO events"):
            self._storage.appends += 1
            if self._storage.failing(self._storage.appends):
                raise sqlite3.OperationalError("disk I/O error")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


class FailingDisk(SQLiteStorage):
    """The SQLite storage, with a disk that fails the ``fail_at``-th append (and the
    ones after it when ``for_good``), inside SQLite, where a real disk error arises."""

    def __init__(self, path, *, fail_at: int, for_good: bool = False) -> None:
        super().__init__(path)
        self.fail_at, self.for_good, self.appends = fail_at, for_good, 0

    def failing(self, n: int) -> bool:
        return n == self.fail_at or (self.for_good and n > self.fail_at)

    @property
    def _db(self):
        return _Connection(super()._db, self)


def space_x():
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


SETTINGS = {"seed": 3, "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3}}


def _events(path) -> list[tuple[str, int, int | None]]:
    """(kind, trial, fold) of each event, in order (fold: for fold_finished only)."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT kind, number, payload FROM events ORDER BY id").fetchall()
    finally:
        conn.close()
    return [(k, n, json.loads(p)["fold"] if k == "fold_finished" else None) for k, n, p in rows]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, and its log (a failing run appends the same events up to its failure)."""
    path = tmp_path_factory.mktemp("reference") / "reference.db"
    trials = Study(space_x(), storage=path, folds=kfold(12, n_splits=2, seed=0),
                   **SETTINGS).run(obj.reporting_folds, n_trials=6)
    assert len(trials.with_state(TrialState.PRUNED)) > 0  # decisions that stop are in the log
    return trials, _events(path)


@pytest.mark.parametrize("kind", ["trial_created", "report", "decision", "fold_finished",
                                  "trial_finished"])
def test_a_disk_error_stops_the_run_and_a_resume_loses_nothing(tmp_path, reference, kind):
    """The append of a given kind fails (its third occurrence, inside the run): the run stops
    with a StorageError naming the disk error, and the study resumed on a sound disk is the
    uninterrupted one, with every event recorded once."""
    trials, log = reference
    fail_at = [i for i, (k, _, _) in enumerate(log, 1) if k == kind][2]
    path = tmp_path / "study.db"
    folds = kfold(12, n_splits=2, seed=0)
    with pytest.raises(StorageError, match="disk I/O error") as info:
        Study(space_x(), storage=FailingDisk(path, fail_at=fail_at), folds=folds,
              **SETTINGS).run(obj.reporting_folds, n_trials=6)
    assert not isinstance(info.value, DuplicateEventError)
    assert "run the study again" in str(info.value)
    assert len(_events(path)) == fail_at - 1  # nothing after the failure

    study = Study(space_x(), storage=path, folds=folds, **SETTINGS)
    resumed = study.run(obj.reporting_folds, n_trials=6 - len(study.trials))
    assert [t.state for t in resumed] == [t.state for t in trials]
    assert [t.value for t in resumed] == [t.value for t in trials]
    assert [t.params for t in resumed] == [t.params for t in trials]
    assert [t.decisions for t in resumed] == [t.decisions for t in trials]
    assert not any("worker died" in (t.error or "") for t in resumed)
    counts = Counter(_events(path))
    assert all(n == 1 for (k, _, _), n in counts.items()
               if k in ("trial_created", "fold_finished", "trial_finished"))


def test_a_disk_that_stays_broken_gives_a_storage_error_not_a_key_error(tmp_path):
    folds = kfold(12, n_splits=2, seed=0)
    # the 2nd append is the first fold's result, written by the task itself
    failing = FailingDisk(tmp_path / "study.db", fail_at=2, for_good=True)
    study = Study(space_x(), storage=failing, seed=3, folds=folds)
    with pytest.raises(StorageError, match="disk I/O error"):
        study.run(obj.fold_mean, n_trials=3)


def test_only_a_duplicate_is_read_as_already_recorded():
    """A worker that recorded its fold and then died: the duplicate is refused with
    DuplicateEventError, and the study keeps the recorded result."""
    storage = MemoryStorage()
    storage.append(EventKind.TRIAL_CREATED, 0, {"params": {"x": 0.5}, "seed": 1})
    payload = {"fold": 0, "repeat": 0, "seed": 1, "state": "complete", "metrics": {},
               "error": None, "duration": 0.0}
    storage.append(EventKind.FOLD_FINISHED, 0, payload)
    with pytest.raises(DuplicateEventError):
        storage.append(EventKind.FOLD_FINISHED, 0, payload)
    assert issubclass(DuplicateEventError, StorageError)


def test_an_error_inside_the_objective_that_is_not_the_storage_is_still_a_failed_trial(tmp_path):
    study = Study(space_x(), storage=tmp_path / "s.db", seed=0)
    trials = study.run(obj.sometimes_bad, n_trials=5)
    assert trials[1].state is TrialState.FAILED and "boom" in trials[1].error
