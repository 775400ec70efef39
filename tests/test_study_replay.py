"""The replay a stopper judges with belongs to one storage object and one study."""

from __future__ import annotations

import os
import pickle

import hpstudy
from hpstudy import Study
from hpstudy.storage import MemoryStorage, SQLiteStorage, replay_of
from tests import _objectives as obj


def space_x():
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


class Watcher:
    """A stopper that never stops, and notes the trials it was shown."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict, list[dict]]] = []

    def decide(self, trial, trials, report=None):
        self.seen.append((dict(trial.params), [dict(t.params) for t in trials]))
        return None


def _delete(path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")


def test_a_new_study_at_a_deleted_studys_path_is_judged_on_its_own_trials(tmp_path):
    path = tmp_path / "study.db"
    old = Study(space_x(), storage=path, seed=1, stopper=Watcher())
    old.run(obj.reporting, n_trials=3)
    old.storage.close()
    _delete(path)

    watcher = Watcher()
    new = Study(space_x(), storage=path, seed=2, stopper=watcher)
    trials = new.run(obj.reporting, n_trials=2)
    assert new.study_id != old.study_id
    params = [dict(t.params) for t in trials]
    assert watcher.seen, "the stopper was never asked"
    for judged, everyone in watcher.seen:
        assert judged in params  # never a trial of the deleted study
        assert all(p in params for p in everyone)
    assert len(watcher.seen) == 2 * 10  # each report of the new study's two trials


def test_each_study_id_has_its_own_replay_on_a_storage():
    storage = MemoryStorage()
    a = replay_of(storage, "a", metric="value", goal=hpstudy.Goal.MAXIMIZE)
    assert replay_of(storage, "a", metric="value", goal="maximize") is a
    assert replay_of(storage, "b", metric="value", goal="maximize") is not a
    assert replay_of(MemoryStorage(), "a", metric="value", goal="maximize") is not a


def test_the_study_id_is_stored_once_and_kept(tmp_path):
    path = tmp_path / "s.db"
    first = Study(space_x(), storage=path)
    again = Study(space_x(), storage=path)
    assert len(first.study_id) == 32 and again.study_id == first.study_id
    assert Study(space_x(), storage=tmp_path / "other.db").study_id != first.study_id


def test_a_pickled_sqlite_storage_keeps_no_replay_state(tmp_path):
    storage = SQLiteStorage(tmp_path / "s.db")
    replay_of(storage, "a", metric="value", goal="maximize")
    copy = pickle.loads(pickle.dumps(storage))
    assert copy.path == storage.path
    assert replay_of(copy, "b", metric="value", goal="maximize") is not \
        replay_of(storage, "b", metric="value", goal="maximize")
