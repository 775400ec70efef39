"""Damaged study files: bit flips, truncations and deleted rows give a documented error
(StorageError or ConfigError) or a correct read, never another exception."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hpstudy
from hpstudy import ConfigError, StorageError
from hpstudy.report import load_study_data
from tests import _objectives as obj


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "study.db"
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0), "k": hpstudy.Categorical(["a", "b"])})
    study = hpstudy.Study(space, storage=path, seed=0, stopper=hpstudy.MedianStopper())
    study.run(obj.reporting, n_trials=6, progress=False)
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    return path


def _read(path: Path) -> None:
    try:
        trials = hpstudy.Study.load(path).trials
    except (StorageError, ConfigError):
        return  # documented: the file is reported, never half-read
    numbers = [t.number for t in trials]
    assert numbers == sorted(set(numbers))  # a read is a coherent read
    for t in trials:
        assert t.state in hpstudy.TrialState


MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**9), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 10**9), st.just(0)),
    st.tuples(st.just("delete"), st.integers(1, 60), st.just(0)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=MUTATION)
def test_a_damaged_study_file_is_reported_or_read_correctly(pristine, mutation):
    kind, where, bit = mutation
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "study.db"
        shutil.copy(pristine, path)
        _mutate(path, kind, where, bit)
        _read(path)


def _mutate(path: Path, kind: str, where: int, bit: int) -> None:
    if kind == "delete":
        conn = sqlite3.connect(path)
        conn.execute("DELETE FROM events WHERE id = ?", (where,))
        conn.commit()
        conn.close()
    else:
        data = bytearray(path.read_bytes())
        at = where % len(data)
        if kind == "flip":
            data[at] ^= 1 << bit
        else:
            del data[at:]
        path.write_bytes(bytes(data))


def _summary(record) -> list[tuple]:
    return [(t.number, t.state, t.value, dict(t.metrics), dict(t.params), t.error,
             record.n_reports(t)) for t in record.trials]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=MUTATION)
def test_the_summary_read_of_a_damaged_file_is_reported_or_that_of_the_full_read(pristine, mutation):
    """``hpstudy status``/``export`` read a summary (reports, folds, decisions skipped but
    checked to be JSON objects): an error, or exactly what the full read summarises."""
    kind, where, bit = mutation
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "study.db"
        shutil.copy(pristine, path)
        _mutate(path, kind, where, bit)
        try:
            summary = _summary(load_study_data(path, summary=True))
        except (StorageError, ConfigError):
            return
        try:
            full = _summary(load_study_data(path))
        except (StorageError, ConfigError):
            return  # a field inside a skipped payload: only a full read checks those
        assert summary == full


def test_the_summary_read_reports_a_damaged_row_it_skips(pristine, tmp_path):
    path = tmp_path / "study.db"
    shutil.copy(pristine, path)
    conn = sqlite3.connect(path)
    report = conn.execute("SELECT min(id) FROM events WHERE kind = 'report'").fetchone()[0]
    conn.execute("UPDATE events SET payload = '{\"step\": 1,' WHERE id = ?", (report,))
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match=f"event {report} is not readable"):
        load_study_data(path, summary=True)


def test_a_table_name_that_is_not_utf8_is_a_storage_error(pristine, tmp_path):
    """A flipped bit in the schema's text (found by fuzzing: a UnicodeDecodeError escaped
    while opening the file)."""
    path = tmp_path / "study.db"
    shutil.copy(pristine, path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET name = CAST(X'6D65E974' AS TEXT) WHERE name = 'meta'")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError):
        _ = hpstudy.Study.load(path).trials
