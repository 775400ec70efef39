"""Following a run: progress lines and ``status_text``, on real studies stored in SQLite."""

from __future__ import annotations

import re
import time

import pytest

import hpstudy
from hpstudy.report import progress_line, status_text
from hpstudy.storage import EventKind, SQLiteStorage
from tests import _report_studies as rs


@pytest.fixture(scope="module")
def pruned_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "pruned.db"
    study = rs.multi_model(path, n_trials=10, stopper=hpstudy.Hyperband(min_iter=3, eta=3))
    return path, study


def _kill_mid_trial(path) -> None:
    """Leave the study as a killed coordinator does: a trial created, never finished."""
    store = SQLiteStorage(path)
    try:
        events = store.read(0)
        last = [e for e in events if e.kind is EventKind.TRIAL_CREATED][-1]
        store.append(EventKind.TRIAL_CREATED, last.number + 1, dict(last.payload))
    finally:
        store.close()


def test_progress_line_of_a_complete_trial_gives_value_best_and_times(pruned_db):
    trial = pruned_db[1].trials.complete[0]
    line = progress_line(trial, 0.95, 130.0, metric="accuracy")
    assert line.startswith(f"trial {trial.number} complete after ")
    assert f"accuracy {trial.value:.6g}" in line
    assert "best so far 0.95" in line and line.endswith("elapsed 2.2 min")


def test_progress_line_of_a_pruned_trial_says_which_rule_stopped_it_and_why(pruned_db):
    trials = pruned_db[1].trials.with_state(hpstudy.TrialState.PRUNED)
    assert len(trials), "the fixture should prune some trials"
    for trial in trials:
        stop = next(d for d in trial.decisions if d.stop)
        line = progress_line(trial, None, 5.0, metric="accuracy")
        assert f"trial {trial.number} pruned" in line
        assert f"stopped by {stop.rule} at step {stop.step}, fold {stop.fold}" in line
        assert f"{stop.value:.6g} worse than the threshold {stop.threshold:.6g}" in line
        assert f"accuracy {trial.value:.6g} (last reported)" in line
        assert "no complete trial yet" in line


def test_progress_line_of_a_failed_trial_gives_its_error_on_one_line(tmp_path):
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    study = hpstudy.Study(space, storage=tmp_path / "f.db")
    study.run(rs.always_fails, n_trials=1, progress=False)
    trial = study.trials[0]
    line = progress_line(trial, None, 1.0)
    assert line.startswith("trial 0 failed") and "no data <here>" in line
    assert "\n" not in line and "Traceback" not in line and "File " not in line
    long = hpstudy.Trial(number=1, params={}, state=hpstudy.TrialState.FAILED, error="x" * 1000)
    assert len(progress_line(long, None, 1.0)) < 300


def test_status_of_a_finished_study_has_counts_top_table_and_no_warning(pruned_db):
    path, study = pruned_db
    text = status_text(path, top_k=3)
    trials = study.trials
    n_pruned = len(trials.with_state(hpstudy.TrialState.PRUNED))
    assert text.startswith("study 'three models': 10 trials (accuracy, maximize)")
    assert f"{len(trials.complete)} complete, {n_pruned} pruned" in text
    assert "WARNING" not in text and "the run has ended" in text
    table = text.split("top 3 trials:\n")[1].splitlines()
    assert table[0].split() == ["rank", "trial", "accuracy", "state", "model_name", "lr", "layers"]
    rows = [r.split() for r in table[2:]]
    best = max(trials.complete, key=lambda t: t.value)
    assert rows[0][:4] == ["1", str(best.number), f"{best.value:.6g}", "complete"]
    assert len(rows) == 3


def test_status_gives_an_eta_from_the_planned_trials(tmp_path):
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    study = hpstudy.Study(space, storage=tmp_path / "p.db", seed=0,
                          annotations={"planned_trials": 20})
    study.run(rs.plain, n_trials=5, progress=False)
    text = status_text(tmp_path / "p.db")
    assert "5 trials of 20 planned" in text
    eta = re.search(r"ETA: about (.+) for the 15 trial\(s\) left \(at (.+) per trial so far\)",
                    text)
    assert eta, text


def test_status_says_when_the_coordinating_process_looks_dead(tmp_path):
    path = tmp_path / "k.db"
    rs.one_model(path, n_trials=3)
    _kill_mid_trial(path)
    fresh = status_text(path, now=time.time() + 5)
    assert "1 running" in fresh and "WARNING" not in fresh
    stale = status_text(path, now=time.time() + 3600)
    assert "WARNING: no progress for 60.0 min while 1 trial(s) are running" in stale
    assert "coordinating process may have died; `hpstudy resume` continues it" in stale


def test_status_of_an_empty_study(tmp_path):
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    hpstudy.Study(space, storage=tmp_path / "e.db")
    text = status_text(tmp_path / "e.db")
    assert "0 trials" in text and "no trial has a value yet" in text
