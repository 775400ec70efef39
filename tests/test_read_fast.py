"""Issue 13, scale: the fast read of ``status`` and ``export`` gives what a full replay gives.

``hpstudy status`` and ``export`` read a study file without the reports' payloads
(:func:`hpstudy.storage.report_counts` counts them) and ``import hpstudy`` loads its
names on first use; these tests hold both to the full read. The timing itself is in
``python -m benchmarks.bench_soak --scale-only``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

import hpstudy
from hpstudy.cli import main
from hpstudy.report import load_study_data, status_text
from hpstudy.storage import Event, EventKind, SQLiteStorage, TrialsBuilder, report_counts
from tests import _objectives as obj

_PAYLOADS = {
    EventKind.TRIAL_CREATED: {"params": {"x": 0.5}, "seed": 1},
    EventKind.TRIAL_RESTARTED: {},
    EventKind.FOLD_FINISHED: {"repeat": 0, "seed": 1, "state": "complete",
                              "metrics": {"value": 0.5}, "error": None, "duration": 0.1},
    EventKind.TRIAL_FINISHED: {"state": "complete", "value": 0.5, "metrics": {"value": 0.5},
                               "error": None},
}


def _payload(kind: EventKind, fold: int) -> dict:
    if kind is EventKind.REPORT:
        return {"step": 1, "value": 0.25, "fold": fold}
    if kind is EventKind.FOLD_FINISHED:
        return dict(_PAYLOADS[kind], fold=fold)
    return dict(_PAYLOADS[kind])


_KINDS = [EventKind.TRIAL_CREATED, EventKind.REPORT, EventKind.REPORT, EventKind.FOLD_FINISHED,
          EventKind.TRIAL_FINISHED, EventKind.TRIAL_RESTARTED]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_KINDS), st.integers(0, 3), st.integers(0, 2),
                          st.sampled_from([None, 1, 2])), max_size=40))
def test_report_counts_are_those_of_the_full_replay(steps):
    """Random logs: reports before their trial, trials created twice, restarts, stale epochs."""
    events = [Event(id=i, kind=kind, number=number, payload=_payload(kind, fold), time=float(i),
                    epoch=epoch)
              for i, (kind, number, fold, epoch) in enumerate(steps, 1)]
    builder = TrialsBuilder()
    builder.apply(events)
    full = {t.number: len(t.reports) for t in builder.trials() if t.reports}
    counts = report_counts([e for e in events if e.kind is not EventKind.REPORT],
                           [(e.number, e.id) for e in events if e.kind is EventKind.REPORT])
    if any(e.kind is EventKind.TRIAL_RESTARTED for e in events):
        assert counts is None
    else:
        assert counts == full


def _pruning_study(path) -> str:
    """A real study: 10-step curves, some pruned by Hyperband, one failed trial."""
    sweep = hpstudy.Sweep.from_dict({
        "method": "random", "metric": {"name": "value", "goal": "maximize"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2}})
    study = hpstudy.Study.from_sweep(sweep, storage=path, seed=3)
    study.run(obj.reporting, n_trials=14)
    return str(path)


def _export(db: str, *args: str, capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["export", db, "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _expected(db: str) -> list[tuple]:
    return [(t.number, t.state.value, t.value, len(t.reports))
            for t in load_study_data(db).trials]


def test_export_without_reports_counts_what_the_full_read_holds(tmp_path, capsys):
    db = _pruning_study(tmp_path / "s.db")
    expected = _expected(db)
    assert any(state == "pruned" for _, state, _, _ in expected)  # counts differ by trial
    assert len({n for *_, n in expected}) > 1
    rows = _export(db, capsys=capsys)
    assert [(r["number"], r["state"], r["value"], r["n_reports"]) for r in rows] == expected
    with_reports = _export(db, "--reports", capsys=capsys)
    assert [len(r["reports"]) for r in with_reports] == [n for *_, n in expected]
    fast = load_study_data(db, summary=True)
    assert fast.report_counts is not None
    assert not any(t.reports or t.folds or t.decisions for t in fast.trials)  # left unread
    assert [fast.n_reports(t) for t in fast.trials] == [n for *_, n in expected]


def test_after_a_restart_the_fast_read_falls_back_to_the_full_replay(tmp_path, capsys):
    """A restart drops the reports of unfinished folds: only their payloads say which."""
    db = _pruning_study(tmp_path / "s.db")
    store = SQLiteStorage(db)
    number = 14
    store.append(EventKind.TRIAL_CREATED, number, {"params": {"x": 0.5}, "seed": 9})
    for step in (1, 2, 3):
        store.append(EventKind.REPORT, number, {"step": step, "value": 0.1 * step, "fold": None})
    store.append(EventKind.TRIAL_RESTARTED, number, {})  # the crash: its 3 reports are dropped
    store.append(EventKind.REPORT, number, {"step": 1, "value": 0.2, "fold": None})
    store.close()
    expected = _expected(db)
    assert expected[-1] == (number, "running", None, 1)
    rows = _export(db, capsys=capsys)
    assert [(r["number"], r["state"], r["value"], r["n_reports"]) for r in rows] == expected
    fast = load_study_data(db, summary=True)
    assert fast.report_counts is None and fast.n_reports(fast.trials[-1]) == 1


def test_status_reads_no_reports_and_shows_the_same(tmp_path):
    db = _pruning_study(tmp_path / "s.db")
    full = load_study_data(db)
    text = status_text(db, now=full.read_at)
    assert text == status_text(full, now=full.read_at)
    store = SQLiteStorage(db, read_only=True)
    try:
        skipped = store.read(0, skip=[EventKind.REPORT])
        every = store.read(0)
        assert skipped == [e for e in every if e.kind is not EventKind.REPORT]
        assert store.last_event_time() == max(e.time for e in every)
    finally:
        store.close()


def test_the_reading_commands_import_neither_numpy_nor_the_study_loop():
    """``import hpstudy`` and the CLI load names on first use (PEP 562)."""
    code = ("import sys, json, hpstudy, hpstudy.cli; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'scipy', 'pandas', 'attrs')} | {m for m in sys.modules "
            "if m.startswith('hpstudy.study')})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == ["attrs"]  # attrs: the records are attrs classes
    names = subprocess.run(
        [sys.executable, "-c", "import hpstudy; print(hpstudy.Study.__module__, "
         "hpstudy.space.Real.__name__, hpstudy.GPOptimizer.__name__)"],
        capture_output=True, text=True, check=True).stdout.split()
    assert names == ["hpstudy.study._loop", "Real", "GPOptimizer"]


def test_without_sqlite_json_functions_a_skipping_read_reads_every_row(tmp_path, monkeypatch):
    """An SQLite built without JSON functions: the summary read decodes every row instead."""
    import hpstudy.storage.sqlite as sqlite_module

    db = _pruning_study(tmp_path / "s.db")
    monkeypatch.setattr(sqlite_module, "_FIRST_NOT_OBJECT",
                        sqlite_module._FIRST_NOT_OBJECT.replace("json_valid", "no_json_valid"))
    store = SQLiteStorage(db, read_only=True)
    full_reads = []
    read = SQLiteStorage.read

    def counting_read(self, after=0, *, skip=()):
        if not skip:
            full_reads.append(after)
        return read(self, after, skip=skip)

    monkeypatch.setattr(SQLiteStorage, "read", counting_read)
    try:
        skipped = store.read(0, skip=[EventKind.REPORT, EventKind.FOLD_FINISHED])
        assert full_reads == [0]  # the fallback: every row read, then filtered
        assert skipped == [e for e in store.read(0)
                           if e.kind not in (EventKind.REPORT, EventKind.FOLD_FINISHED)]
    finally:
        store.close()
    assert load_study_data(db, summary=True).report_counts is not None
