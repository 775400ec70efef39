"""Storage: append-only events, uniqueness, several processes, and replay (stateful)."""

from __future__ import annotations

import multiprocessing

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from hpstudy import ConfigError, StorageError, TrialState
from hpstudy.storage import EventKind, MemoryStorage, SQLiteStorage, TrialsBuilder, open_storage


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    return MemoryStorage() if request.param == "memory" else SQLiteStorage(tmp_path / "e.db")


def test_append_read_and_meta(storage):
    assert storage.initialize({"a": 1}) == {"a": 1}
    assert storage.initialize({"a": 2}) == {"a": 1}  # the first study's metadata stays
    ids = [storage.append(EventKind.TRIAL_CREATED, n, {"params": {"x": n}, "seed": n}) for n in range(3)]
    assert ids == sorted(ids)
    assert [e.number for e in storage.read()] == [0, 1, 2]
    assert [e.number for e in storage.read(ids[0])] == [1, 2]
    assert storage.read(ids[-1]) == [] or list(storage.read(ids[-1])) == []


def test_duplicates_are_refused(storage):
    storage.append(EventKind.TRIAL_CREATED, 0, {"params": {}, "seed": 0})
    with pytest.raises(StorageError, match="duplicate"):
        storage.append(EventKind.TRIAL_CREATED, 0, {"params": {}, "seed": 0})
    fold = {"fold": 1, "repeat": 0, "seed": 0, "state": "complete", "metrics": {}, "error": None,
            "duration": 0.0}
    storage.append(EventKind.FOLD_FINISHED, 0, fold)
    storage.append(EventKind.FOLD_FINISHED, 0, dict(fold, fold=2))
    with pytest.raises(StorageError, match="duplicate"):
        storage.append(EventKind.FOLD_FINISHED, 0, fold)
    storage.append(EventKind.REPORT, 0, {"step": 1, "value": 0.5, "fold": None})
    storage.append(EventKind.REPORT, 0, {"step": 1, "value": 0.5, "fold": None})  # may repeat
    with pytest.raises(ConfigError, match="payload"):
        storage.append(EventKind.REPORT, 0, {"step": 1, "value": float("nan"), "fold": None})


def test_open_storage_rules(tmp_path):
    assert isinstance(open_storage(None), MemoryStorage)
    assert isinstance(open_storage(tmp_path / "x.db"), SQLiteStorage)
    with pytest.raises(ConfigError, match="storage"):
        open_storage(42)
    bad = tmp_path / "not.db"
    bad.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(StorageError):
        SQLiteStorage(bad).read()


def _writer(path: str, start: int, n: int) -> None:
    store = SQLiteStorage(path)
    for i in range(start, start + n):
        store.append(EventKind.TRIAL_CREATED, i, {"params": {"i": i}, "seed": i})
        store.append(EventKind.REPORT, i, {"step": 0, "value": 1.0, "fold": None})


def test_processes_append_to_one_file(tmp_path):
    path = str(tmp_path / "shared.db")
    SQLiteStorage(path).initialize({"x": 1})
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, k * 100, 100)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    events = SQLiteStorage(path).read()
    assert len(events) == 600
    assert len({e.id for e in events}) == 600
    builder = TrialsBuilder()
    builder.apply(events)
    assert len(builder.trials()) == 300


class ReplayMachine(RuleBasedStateMachine):
    """Random event sequences, with the store reopened at random ("crashes"): the replay
    always equals a plain model of what was appended."""

    def __init__(self):
        super().__init__()
        import tempfile

        self.dir = tempfile.mkdtemp()
        self.model: dict[int, dict] = {}

    @initialize(kind=st.sampled_from(["memory", "sqlite"]))
    def open(self, kind):
        self.kind = kind
        self.store = MemoryStorage() if kind == "memory" else SQLiteStorage(f"{self.dir}/r.db")

    @rule()
    def create(self):
        n = len(self.model)
        self.store.append(EventKind.TRIAL_CREATED, n, {"params": {"x": n / 10}, "seed": n})
        self.model[n] = {"reports": [], "folds": set(), "state": TrialState.RUNNING}

    @precondition(lambda self: self.model)
    @rule(data=st.data(), value=st.floats(-1e6, 1e6))
    def report(self, data, value):
        n = data.draw(st.sampled_from(sorted(self.model)))
        self.store.append(EventKind.REPORT, n, {"step": len(self.model[n]["reports"]), "value": value,
                                               "fold": None})
        self.model[n]["reports"].append(value)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), fold=st.integers(0, 3))
    def finish_fold(self, data, fold):
        n = data.draw(st.sampled_from(sorted(self.model)))
        payload = {"fold": fold, "repeat": 0, "seed": 0, "state": "complete",
                   "metrics": {"value": 1.0}, "error": None, "duration": 0.0}
        if fold in self.model[n]["folds"]:
            with pytest.raises(StorageError):
                self.store.append(EventKind.FOLD_FINISHED, n, payload)
        else:
            self.store.append(EventKind.FOLD_FINISHED, n, payload)
            self.model[n]["folds"].add(fold)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def finish_trial(self, data):
        n = data.draw(st.sampled_from(sorted(self.model)))
        payload = {"state": "complete", "value": 1.0, "metrics": {"value": 1.0}, "error": None}
        if self.model[n]["state"] is TrialState.COMPLETE:
            with pytest.raises(StorageError):
                self.store.append(EventKind.TRIAL_FINISHED, n, payload)
        else:
            self.store.append(EventKind.TRIAL_FINISHED, n, payload)
            self.model[n]["state"] = TrialState.COMPLETE

    @precondition(lambda self: self.kind == "sqlite")
    @rule()
    def crash_and_reopen(self):
        self.store.close()
        self.store = SQLiteStorage(f"{self.dir}/r.db")

    @invariant()
    def replay_matches_the_model(self):
        if not hasattr(self, "store"):
            return
        builder = TrialsBuilder()
        builder.apply(self.store.read())
        trials = builder.trials()
        assert [t.number for t in trials] == sorted(self.model)
        for t in trials:
            m = self.model[t.number]
            assert [r.value for r in t.reports] == m["reports"]
            assert {f.fold for f in t.folds} == m["folds"]
            assert t.state is m["state"]


TestReplay = ReplayMachine.TestCase
TestReplay.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
