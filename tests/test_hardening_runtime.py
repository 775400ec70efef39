"""Issue 13, runtime: healthy results are never thrown away, one coordinator per study.

Each test reproduces a case of the adversarial run (storage errors in workers, dying
workers, objectives that exit or fork, coordinators that die) and asserts the fixed
behaviour.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

import hpstudy
from benchmarks._procs import alive as _alive
from benchmarks._procs import children
from hpstudy import Study, TrialState
from hpstudy.errors import ConfigError, StorageError
from hpstudy.storage import SQLiteStorage, lease_info
from tests import _objectives as obj
from tests._polling import event_kinds as _kinds
from tests._polling import wait_for

ROOT = Path(__file__).resolve().parents[1]


def space_x():
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


def _python(code: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


# ----------------------------------------------------------------------------- item 1
def test_a_full_disk_in_a_worker_stops_the_run_and_keeps_the_trial_retriable(tmp_path):
    path = tmp_path / "full.db"
    study = Study(space_x(), storage=obj.disk_full_storage(path), seed=2)
    with pytest.raises(StorageError, match="database or disk is full") as info:
        study.run(obj.quadratic, n_trials=6, n_jobs=2)
    assert "run the study again" in str(info.value)
    trials = Study(space_x(), storage=path, seed=2).trials
    assert not trials.with_state(TrialState.FAILED)  # never a FAILED trial
    assert trials.running  # left to be run again
    resumed = Study(space_x(), storage=path, seed=2)
    done = resumed.run(obj.quadratic, n_trials=6 - len(resumed.trials))
    assert len(done) == 6 and all(t.state is TrialState.COMPLETE for t in done)


# ----------------------------------------------------------------------------- item 2
def test_a_killed_worker_fails_only_its_own_trial(tmp_path, monkeypatch):
    monkeypatch.setenv("HPSTUDY_TEST_RENDEZVOUS", str(tmp_path))
    study = Study(space_x(), storage=tmp_path / "w.db", seed=1)
    trials = study.run(obj.dies_among_peers, n_trials=4, n_jobs=2)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAILED,
                                         TrialState.COMPLETE, TrialState.COMPLETE]
    assert "worker died" in trials[1].error
    kinds = _kinds(tmp_path / "w.db")
    # trial 0 was in flight when its peer died: it is run again (trial_restarted) or, when
    # the pool notices the death only after trial 0 finished (CPython sometimes does),
    # kept; never failed (the old code failed every trial in flight)
    assert ("trial_restarted", 0) in kinds or kinds.index(("trial_finished", 0)) < kinds.index(
        ("trial_finished", 1))
    assert ("trial_restarted", 1) not in kinds  # the culprit is failed, not run again


def test_max_retries_runs_a_task_whose_worker_died_again(tmp_path, monkeypatch):
    monkeypatch.setenv("HPSTUDY_TEST_RENDEZVOUS", str(tmp_path))
    monkeypatch.setenv("HPSTUDY_TEST_FLAG", "once")
    study = Study(space_x(), storage=tmp_path / "r.db", seed=1)
    trials = study.run(obj.dies_among_peers, n_trials=3, n_jobs=2, max_retries=1)
    assert (tmp_path / "1-died").exists()  # trial 1 died once
    assert all(t.state is TrialState.COMPLETE for t in trials)
    with pytest.raises(ConfigError, match="max_retries"):
        study.run(obj.quadratic, n_trials=1, max_retries=-1)


# ----------------------------------------------------------------------------- item 3
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_sys_exit_and_base_exceptions_are_failed_trials(tmp_path, n_jobs):
    study = Study(space_x(), storage=tmp_path / "e.db", seed=0)
    trials = study.run(obj.exits, n_trials=4, n_jobs=n_jobs)
    assert len(trials) == 4 and not trials.running
    assert trials[1].state is TrialState.FAILED and "sys.exit(0)" in trials[1].error
    assert trials[2].state is TrialState.FAILED and "_Escape: out of here" in trials[2].error
    assert trials[0].state is trials[3].state is TrialState.COMPLETE


def test_ctrl_c_in_an_objective_stops_the_run_and_the_trial_is_resumed(tmp_path):
    flag = tmp_path / "interrupt"
    flag.touch()
    os.environ["HPSTUDY_TEST_FLAG"] = str(flag)
    try:
        study = Study(space_x(), storage=tmp_path / "k.db", seed=0)
        with pytest.raises(KeyboardInterrupt):
            study.run(obj.interrupted, n_trials=3)
        assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.RUNNING]
        flag.unlink()
        trials = Study(space_x(), storage=tmp_path / "k.db", seed=0).run(obj.interrupted, n_trials=1)
    finally:
        del os.environ["HPSTUDY_TEST_FLAG"]
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3


def test_a_forking_objective_does_not_become_a_second_coordinator(tmp_path):
    db = tmp_path / "fork.db"
    proc = _python(f"""
        import hpstudy
        from tests import _objectives as obj
        study = hpstudy.Study(hpstudy.SearchSpace({{"x": hpstudy.Real(0.0, 1.0)}}),
                              storage={str(db)!r}, seed=0)
        study.run(obj.forks, n_trials=3)
        print("coordinator done", flush=True)
    """)
    out, err = proc.communicate(timeout=120)
    time.sleep(0.5)  # a child that went on would still be writing
    assert proc.returncode == 0, err.decode()
    assert out.decode().count("coordinator done") == 1
    assert "Traceback" not in err.decode()  # no second coordinator that ran into the first
    counts = Counter(_kinds(db))
    assert counts == Counter({("trial_created", n): 1 for n in range(3)}
                             | {("fold_finished", n): 1 for n in range(3)}
                             | {("trial_finished", n): 1 for n in range(3)})


# ----------------------------------------------------------------------------- items 4, 6
def _children(pid: int) -> list[int]:
    return children(pid, zombies=True)


_SLOW_STUDY = """
    import sys
    import hpstudy
    from tests import _objectives as obj
    study = hpstudy.Study(hpstudy.SearchSpace({{"x": hpstudy.Real(0.0, 1.0)}}),
                          storage={db!r}, seed=0)
    study.run(obj.sleeps, n_trials={n}, n_jobs={jobs})
"""




def test_workers_exit_when_their_coordinator_is_killed(tmp_path):
    db = tmp_path / "orphans.db"
    proc = _python(_SLOW_STUDY.format(db=str(db), n=50, jobs=2), env={"HPSTUDY_TEST_SLEEP": "5"})
    try:
        workers = wait_for(lambda: len(_children(proc.pid)) >= 2 and _children(proc.pid))
        wait_for(lambda: db.exists() and ("trial_created", 1) in _kinds(db))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = [w for w in workers if _alive(w)]
    finally:
        for w in _children(proc.pid):
            os.kill(w, signal.SIGKILL)
    for w in alive:
        os.kill(w, signal.SIGKILL)
    assert not alive, "pool workers outlived their coordinator"
    before = _kinds(db)
    time.sleep(1.0)
    assert _kinds(db) == before  # nothing wrote into the study after its coordinator died


def test_a_second_coordinator_is_refused_while_the_first_lives(tmp_path):
    db = tmp_path / "two.db"
    proc = _python(_SLOW_STUDY.format(db=str(db), n=20, jobs=1), env={"HPSTUDY_TEST_SLEEP": "0.5"})
    try:
        wait_for(lambda: db.exists() and ("trial_created", 0) in _kinds(db))
        lease = lease_info(db)
        assert lease is not None and lease.pid == proc.pid and lease.fresh()
        second = Study(space_x(), storage=db, seed=0)
        with pytest.raises(StorageError, match=f"study is being run by PID {proc.pid} on "):
            second.run(obj.sleeps, n_trials=1)
        assert [t.state for t in second.trials if t.state is TrialState.FAILED] == []
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert not lease_info(db).fresh()  # its holder is dead: stale
    os.environ["HPSTUDY_TEST_SLEEP"] = "0"
    try:
        trials = Study(space_x(), storage=db, seed=0).run(obj.sleeps, n_trials=1)
    finally:
        del os.environ["HPSTUDY_TEST_SLEEP"]
    assert not trials.running
    assert lease_info(db) is None  # given back at the end of the run


# ----------------------------------------------------------------------------- item 5
def test_a_trial_that_kills_the_coordinator_twice_is_failed(tmp_path):
    db = tmp_path / "oom.db"
    code = f"""
        import hpstudy
        from tests import _objectives as obj
        study = hpstudy.Study(hpstudy.SearchSpace({{"x": hpstudy.Real(0.0, 1.0)}}),
                              storage={str(db)!r}, seed=0)
        study.run(obj.kills_coordinator, n_trials=5 - len(study.trials))
    """
    for _ in range(2):
        proc = _python(code)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 9, err.decode()
    proc = _python(code)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    trials = Study(space_x(), storage=db, seed=0).trials
    assert len(trials) == 5
    assert trials[2].state is TrialState.FAILED and "crashed the coordinator twice" in trials[2].error
    assert all(t.state is TrialState.COMPLETE for t in trials if t.number != 2)


# ----------------------------------------------------------------------------- item 7
def test_random_suggestions_depend_on_the_trial_number_alone(tmp_path):
    serial = Study(space_x(), storage=tmp_path / "a.db", seed=7).run(obj.quadratic, n_trials=6)
    parallel = Study(space_x(), storage=tmp_path / "b.db", seed=7).run(
        obj.quadratic, n_trials=6, n_jobs=3)
    assert [t.params for t in parallel] == [t.params for t in serial]


# ----------------------------------------------------------------------------- item 11
def test_a_grid_over_the_limit_creates_no_study(tmp_path):
    path = tmp_path / "grid.db"
    big = hpstudy.SearchSpace({"a": hpstudy.Integer(0, 999), "b": hpstudy.Integer(0, 9999)})
    with pytest.raises(ConfigError, match="exceeds the limit"):
        Study(big, optimizer="grid", storage=path)
    assert not SQLiteStorage(path).exists()
    small = hpstudy.SearchSpace({"a": hpstudy.Integer(0, 9), "b": hpstudy.Integer(0, 9)})
    trials = Study(small, optimizer="grid", storage=path).run(
        lambda p, ctx: p["a"] + p["b"], n_trials=3)
    assert len(trials) == 3


# ----------------------------------------------------------------------------- progress log
def test_each_finished_trial_is_logged_without_a_progress_bar(caplog):
    study = Study(space_x(), seed=0)
    with caplog.at_level(logging.INFO, logger="hpstudy.study"):
        study.run(obj.quadratic, n_trials=3, progress=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "hpstudy.study"]
    assert len(lines) == 3
    assert lines[0].startswith("trial 0 complete") and "best so far" in lines[-1]
