"""Following a run: progress lines and ``status_text``, on real studies stored in SQLite."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hpstudy
from hpstudy.report import progress_line, status_text
from hpstudy.storage import EventKind, SQLiteStorage
from tests import _report_studies as rs

ROOT = Path(__file__).resolve().parents[1]


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


def _lease_in_a_process_that_dies(path) -> int:
    """Take the study's lease in a child process that is then killed: a stale lease."""
    code = ("import os, sys; from hpstudy.storage import SQLiteStorage; "
            "SQLiteStorage(sys.argv[1]).acquire_lease(n_jobs=2); print(os.getpid(), flush=True); "
            "os._exit(0)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return int(out.stdout)


def test_status_without_a_lease_falls_back_on_the_silence(tmp_path):
    """A study in memory keeps no lease: a long silence with trials running is the hint."""
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    study = hpstudy.Study(space, seed=0)
    study.run(rs.plain, n_trials=2, progress=False)
    study.storage.append(EventKind.TRIAL_CREATED, 2, {"params": {"x": 0.5}, "seed": 2})
    quiet = status_text(study, now=time.time() + 5)
    assert "1 running" in quiet and "WARNING" not in quiet and "coordinator" not in quiet
    stale = status_text(study, now=time.time() + 3600)
    assert "WARNING: no progress for 60.0 min while 1 trial(s) are running" in stale
    assert "coordinating process may have died; `hpstudy resume` continues it" in stale


def test_status_says_the_coordinator_is_alive_from_its_fresh_lease(tmp_path):
    path = tmp_path / "k.db"
    rs.one_model(path, n_trials=3)
    _kill_mid_trial(path)
    store = SQLiteStorage(path)
    try:
        lease, _ = store.acquire_lease(n_jobs=3)  # this test's process: alive
        text = status_text(path, now=time.time() + 3600)  # an hour of silence: still alive
    finally:
        store.release_lease()
        store.close()
    line = f"  coordinator PID {os.getpid()} on {socket.gethostname()} is alive (heartbeat "
    assert line in text and "3 task(s) at a time" in text
    assert "WARNING" not in text and "may have died" not in text and "1 running" in text


def test_status_says_a_dead_coordinator_is_gone_and_its_trials_will_rerun(tmp_path):
    path = tmp_path / "k.db"
    rs.one_model(path, n_trials=3)
    _kill_mid_trial(path)
    pid = _lease_in_a_process_that_dies(path)
    text = status_text(path)  # at once: no silence needed, the lease says it
    assert (f"  WARNING: coordinator PID {pid} on {socket.gethostname()} is gone (stale lease, "
            "last heartbeat ") in text
    assert ("the 1 running trial(s) will be re-run on resume; `hpstudy resume` continues the "
            "study") in text
    assert "is alive" not in text and "may have died" not in text
    # the report page's status row says the same
    from hpstudy.report import build_report

    status = dict(build_report(path).sections["settings"].data.rows)["status"]
    assert f"coordinator PID {pid}" in status and "is gone (stale lease" in status


def test_status_of_running_trials_that_no_coordinator_holds(tmp_path):
    """Trials left RUNNING by a run that ended without finishing them (lease given back)."""
    path = tmp_path / "k.db"
    rs.one_model(path, n_trials=3)
    _kill_mid_trial(path)
    text = status_text(path)
    assert ("WARNING: no coordinator holds the study (its last run ended or was stopped): the "
            "1 running trial(s) will be re-run on resume") in text
    finished = tmp_path / "f.db"
    rs.one_model(finished, n_trials=3)
    text = status_text(finished)
    assert "WARNING" not in text and "coordinator" not in text


def test_status_of_an_empty_study(tmp_path):
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    hpstudy.Study(space, storage=tmp_path / "e.db")
    text = status_text(tmp_path / "e.db")
    assert "0 trials" in text and "no trial has a value yet" in text
