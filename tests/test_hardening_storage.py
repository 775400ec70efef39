"""Issue 13, storage: stale epochs, damaged files, foreign and read-only files, the WAL."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import warnings

import pytest

import hpstudy
from hpstudy import Study, TrialState
from hpstudy.errors import ConfigError, StorageError
from hpstudy.storage import Event, EventKind, MemoryStorage, SQLiteStorage, TrialsBuilder, check
from tests import _objectives as obj


def space_x():
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


def _event(i, kind, number, payload, epoch):
    return Event(id=i, kind=kind, number=number, payload=payload, time=float(i), epoch=epoch)


FOLD = {"fold": 0, "repeat": 0, "seed": 1, "metrics": {"value": 0.5}, "error": None,
        "duration": 0.1}


# ----------------------------------------------------------------------------- item 4
def test_a_restarted_trial_ignores_the_events_of_an_earlier_epoch():
    """A dead coordinator's worker writes on after the trial was restarted at epoch 2."""
    builder = TrialsBuilder()
    builder.apply([
        _event(1, EventKind.TRIAL_CREATED, 0, {"params": {"x": 0.5}, "seed": 1}, 1),
        _event(2, EventKind.REPORT, 0, {"step": 0, "value": 0.1, "fold": None}, 1),
        _event(3, EventKind.TRIAL_RESTARTED, 0, {}, 2),
        _event(4, EventKind.REPORT, 0, {"step": 1, "value": 0.9, "fold": None}, 1),  # stale
        _event(5, EventKind.REPORT, 0, {"step": 0, "value": 0.2, "fold": None}, 2),
        _event(6, EventKind.FOLD_FINISHED, 0, dict(FOLD, state="failed", metrics={}), 1),  # stale
        _event(7, EventKind.FOLD_FINISHED, 0, dict(FOLD, state="complete"), 2),
    ])
    trial = builder.trial(0)
    assert [(r.step, r.value) for r in trial.reports] == [(0, 0.2)]
    assert [f.state for f in trial.folds] == [TrialState.COMPLETE]


def test_a_fold_result_is_unique_per_epoch(tmp_path):
    storage = SQLiteStorage(tmp_path / "e.db")
    storage.initialize({"format": 1})
    storage.append(EventKind.TRIAL_CREATED, 0, {"params": {}, "seed": 1})
    storage.epoch = 1
    storage.append(EventKind.FOLD_FINISHED, 0, dict(FOLD, state="complete"))
    storage.epoch = 2  # the next coordinator runs the fold again: not refused
    storage.append(EventKind.FOLD_FINISHED, 0, dict(FOLD, state="complete"))
    assert [e.epoch for e in storage.read()] == [None, 1, 2]


# ----------------------------------------------------------------------------- item 9
def _study_file(tmp_path):
    path = tmp_path / "s.db"
    Study(space_x(), storage=path, seed=0).run(obj.quadratic, n_trials=4)
    return path


def _sql(path, statement, *args):
    conn = sqlite3.connect(path)
    try:
        conn.execute(statement, args)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize("damage", [
    "UPDATE events SET payload = '{\"params\": {\"x\": 0.' WHERE id = 3",  # cut JSON
    "UPDATE events SET payload = '[1, 2]' WHERE id = 3",  # not an object
    "UPDATE events SET kind = 'trial_exploded' WHERE id = 3",  # unknown kind
    "UPDATE events SET payload = '{\"seed\": 4}' WHERE id = 3",  # params missing
    "UPDATE events SET payload = '{\"fold\": 0, \"state\": \"odd\"}' WHERE id = 2",
])
def test_a_damaged_event_is_reported_never_half_read(tmp_path, damage):
    path = _study_file(tmp_path)
    _sql(path, damage)
    with pytest.raises(StorageError, match=r"event [23] .*is not readable"):
        Study.load(path).trials  # noqa: B018
    problems = check(path)
    assert len(problems) == 1 and "is not readable" in problems[0]


def test_damaged_metadata_is_a_storage_error(tmp_path):
    path = _study_file(tmp_path)
    _sql(path, "UPDATE meta SET value = '{\"space\": ' WHERE key = 'study'")
    with pytest.raises(StorageError, match="metadata is not readable"):
        Study.load(path)
    assert any("metadata is not readable" in p for p in check(path))


def test_check_passes_a_sound_file_and_names_a_file_that_is_not_a_database(tmp_path):
    assert check(_study_file(tmp_path)) == []
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(4096))
    problems = check(junk)
    assert problems and "not a database" in " ".join(problems)


# ----------------------------------------------------------------------------- item 10
def _foreign(tmp_path):
    path = tmp_path / "other.db"
    _sql(path, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    _sql(path, "INSERT INTO customers (name) VALUES ('Ada')")
    return path


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_foreign_database_is_refused_and_left_as_it_was(tmp_path):
    path = _foreign(tmp_path)
    before = _digest(path)
    with pytest.raises(StorageError, match="another program's tables .*customers"):
        Study(space_x(), storage=path)
    with pytest.raises(StorageError, match="holds no hpstudy study"):
        SQLiteStorage(path, read_only=True).load_meta()
    assert check(path) and _digest(path) == before
    assert not os.path.exists(f"{path}-wal")
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # never switched to WAL
    conn.close()


def test_a_read_only_storage_reads_a_study_and_never_writes(tmp_path):
    path = _study_file(tmp_path)
    storage = SQLiteStorage(path, read_only=True)
    study = Study.load(storage)
    assert len(study.trials) == 4
    with pytest.raises(StorageError, match="read-only"):
        storage.append(EventKind.REPORT, 0, {"step": 0, "value": 1.0, "fold": None})
    with pytest.raises(StorageError, match="no such file"):
        SQLiteStorage(tmp_path / "missing.db", read_only=True).read()
    assert not (tmp_path / "missing.db").exists()


# ----------------------------------------------------------------------------- annotations
@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_update_annotations_merges_into_the_stored_ones(tmp_path, kind):
    storage = MemoryStorage() if kind == "memory" else SQLiteStorage(tmp_path / "a.db")
    Study(space_x(), storage=storage, annotations={"objective": "m:f"})
    assert storage.update_annotations({"planned_trials": 30}) == {"objective": "m:f",
                                                                  "planned_trials": 30}
    assert storage.initialize({})["annotations"] == {"objective": "m:f", "planned_trials": 30}
    with pytest.raises(ConfigError):
        storage.update_annotations({"bad": float("nan")})
    assert storage.initialize({})["annotations"]["planned_trials"] == 30


# ----------------------------------------------------------------------------- items 12, 14
def test_the_replay_refreshes_only_the_trials_that_changed():
    builder = TrialsBuilder()
    builder.apply([_event(i + 1, EventKind.TRIAL_CREATED, i, {"params": {"x": i}, "seed": i}, None)
                   for i in range(500)])
    first = builder.trials()
    builder.apply([_event(501, EventKind.REPORT, 7, {"step": 0, "value": 1.0, "fold": None}, None)])
    second = builder.trials()
    assert len(second[7].reports) == 1 and len(first[7].reports) == 0
    assert all(second[i] is first[i] for i in range(500) if i != 7)


def test_a_large_wal_is_checkpointed_and_warned_about(tmp_path, monkeypatch):
    from hpstudy.storage import sqlite as sqlite_mod

    monkeypatch.setattr(sqlite_mod, "CHECKPOINT_EVERY", 10)
    monkeypatch.setattr(sqlite_mod, "WAL_WARN_BYTES", 1)
    storage = SQLiteStorage(tmp_path / "w.db")
    storage.initialize({"format": 1})
    reader = sqlite3.connect(tmp_path / "w.db")
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM events").fetchall()  # a reader holding a snapshot
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(20):
            storage.append(EventKind.TRIAL_CREATED, i, {"params": {}, "seed": i})
    reader.close()
    messages = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert len(messages) == 1 and "WAL file" in messages[0]


# ----------------------------------------------------------------------------- item 12: the fast read
_PAYLOADS = [  # (kind, payload text as another writer may have stored it)
    ("trial_created", '{"params": {"x": 0.1000000000000000055511151231257827, "k": "\\u00e9"}, '
                      '"seed": 1180591620717411303424}'),
    ("trial_created", '  {"seed": 7, "params": {"x": 5e-324}}\n'),  # whitespace around it
    ("report", '{"step": 0, "value": -0.0, "fold": null}'),
    ("report", '{"step": 1, "value": 1.7976931348623157e308, "fold": null, "step": 2}'),
    ("fold_finished", '{"fold": 0, "repeat": 0, "seed": 1, "state": "complete", '
                      '"metrics": {"value": 0.25}, "error": null, "duration": 0.5}'),
]


def _rows(path, payloads):
    storage = SQLiteStorage(path)
    storage.initialize({"format": 1})
    conn = sqlite3.connect(path)
    for i, (kind, text) in enumerate(payloads):
        number = 1 if i == 1 else 0
        conn.execute("INSERT INTO events (kind, number, payload, time) VALUES (?, ?, ?, ?)",
                     (kind, number, text, float(i)))
    conn.commit()
    conn.close()
    return storage


def test_a_read_parses_every_payload_exactly_as_json_loads(tmp_path):
    import json

    storage = _rows(tmp_path / "p.db", _PAYLOADS)
    events = storage.read()
    assert [e.payload for e in events] == [json.loads(t) for _, t in _PAYLOADS]
    assert [e.kind.value for e in events] == [k for k, _ in _PAYLOADS]
    assert events[0].payload["seed"] == 2**70 and events[3].payload["step"] == 2


@pytest.mark.parametrize("text", ['{"step": 0, "value": 1.0} {"x": 1}', '{"step": 0} ]',
                                  '{"step": 0, "value": 1.0}}', '{"step": 0, "value": 1.0',
                                  '"just a string"'])
def test_a_payload_with_anything_after_its_object_is_not_readable(tmp_path, text):
    storage = _rows(tmp_path / "t.db", [_PAYLOADS[0], ("report", text)])
    with pytest.raises(StorageError, match="event 2 is not readable"):
        storage.read()


def test_a_read_leaves_the_garbage_collector_as_it_found_it(tmp_path):
    import gc

    from hpstudy.storage import Replay

    storage = _rows(tmp_path / "g.db", _PAYLOADS)
    damaged = _rows(tmp_path / "d.db", [("report", "{")])
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            storage.read()
            TrialsBuilder().apply(storage.read())
            Replay(storage, metric="value", goal="maximize").trials()
            with pytest.raises(StorageError):
                damaged.read()
            with pytest.raises(StorageError):
                Replay(damaged, metric="value", goal="maximize").trials()
            with pytest.raises(StorageError):
                TrialsBuilder().apply([_event(1, EventKind.TRIAL_CREATED, 0, {"seed": 1}, None)])
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_bulk_replay_builds_the_records_an_event_by_event_replay_builds():
    """Records frozen once at the end equal those refreshed after every event."""
    import random

    rng = random.Random(5)
    events, i = [], 0
    numbers = list(range(120))
    for n in numbers:
        i += 1
        events.append(_event(i, EventKind.TRIAL_CREATED, n, {"params": {"x": rng.random()},
                                                              "seed": n}, 1))
    for _ in range(600):  # reports, folds and ends of random trials, interleaved
        n, i = rng.choice(numbers), i + 1
        kind = rng.choice([EventKind.REPORT, EventKind.FOLD_FINISHED, EventKind.TRIAL_RESTARTED])
        payload = ({"step": i, "value": rng.random(), "fold": 0} if kind is EventKind.REPORT
                   else dict(FOLD, state="complete", metrics={"value": rng.random()})
                   if kind is EventKind.FOLD_FINISHED else {})
        events.append(_event(i, kind, n, payload, 1))
    for n in numbers[::3]:
        i += 1
        events.append(_event(i, EventKind.TRIAL_FINISHED, n, {"state": "complete", "value": 0.5,
                                                              "metrics": {"value": 0.5}}, 1))
    bulk = TrialsBuilder()
    bulk.apply(events)
    stepwise = TrialsBuilder()
    for event in events:
        stepwise.apply([event])
        stepwise.trials()
    assert list(bulk.trials()) == list(stepwise.trials())
    assert [bulk.trial(n) for n in numbers] == list(bulk.trials())
