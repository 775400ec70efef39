"""The runner's controls: trial_timeout, max_failures and graceful stops (issue 14).

Real processes and real signals: the CLI and the Python API run in subprocesses
that the tests signal at the moment the marks of tests/_control_objectives.py
say the trials are running (polled with a deadline, never a fixed sleep).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import hpstudy
from hpstudy import TrialState
from hpstudy.errors import ConfigError, TooManyFailuresError
from hpstudy.sweep import Sweep
from tests import _control_objectives as objectives

ROOT = Path(__file__).resolve().parents[1]
SPACE = {"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}}


def _space() -> hpstudy.SearchSpace:
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


def _events(db: Path) -> list[tuple[str, int, dict]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute("SELECT kind, number, payload FROM events ORDER BY id").fetchall()
    finally:
        conn.close()
    return [(kind, number, json.loads(payload)) for kind, number, payload in rows]


def _kinds(db: Path, kind: str) -> list[int]:
    return [number for k, number, _ in _events(db) if k == kind]


def _poll(what, proc: subprocess.Popen | None = None, timeout: float = 90.0) -> None:
    """Wait (every 10 ms, up to ``timeout`` s) until ``what()`` is true."""
    deadline = time.monotonic() + timeout
    while not what():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended first (rc {proc.returncode})")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


@pytest.fixture
def marks(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "marks"
    folder.mkdir()
    monkeypatch.setenv("HPSTUDY_TEST_MARKS", str(folder))
    return folder


def _env(marks: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), HPSTUDY_TEST_MARKS=str(marks))


# ----------------------------------------------------------------------------- trial_timeout
@pytest.mark.slow
def test_trial_timeout_on_a_pool_fails_the_slow_task_only(tmp_path, marks, monkeypatch):
    monkeypatch.setenv("HPSTUDY_TEST_HANG_TRIAL", "2")  # not the first: the pool is warm
    db = tmp_path / "s.db"
    study = hpstudy.Study(_space(), storage=str(db), seed=11)
    trials = study.run(objectives.one_hangs, n_trials=7, n_jobs=2, trial_timeout=1.5,
                       max_retries=2)
    assert len(trials) == 7
    hung = trials[2]
    assert hung.state is TrialState.FAILED
    assert hung.error == "timeout: ran longer than trial_timeout=1.5 s"
    for t in trials:  # every other trial completed with its own value (the oracle: 2x + 1)
        if t.number != 2:
            assert t.state is TrialState.COMPLETE, (t.number, t.error)
            assert t.value == pytest.approx(2.0 * t.params["x"] + 1.0)
    # a timeout is not a crash: recorded once, never run again (max_retries=2)
    assert _kinds(db, "fold_finished").count(2) == 1
    assert 2 not in _kinds(db, "trial_restarted")
    assert not (marks / "finished-2").exists()


def test_trial_timeout_with_one_job_runs_in_a_killable_worker(tmp_path, marks, monkeypatch):
    monkeypatch.setenv("HPSTUDY_TEST_HANG_TRIAL", "1")
    db = tmp_path / "s.db"
    study = hpstudy.Study(_space(), storage=str(db), seed=5)
    trials = study.run(objectives.one_hangs, n_trials=3, trial_timeout=1.0)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAILED,
                                        TrialState.COMPLETE]
    assert trials[1].error == "timeout: ran longer than trial_timeout=1 s"
    assert trials[2].value == pytest.approx(2.0 * trials[2].params["x"] + 1.0)


def test_trial_timeout_refuses_what_cannot_end_a_task(tmp_path):
    space = _space()
    with pytest.raises(ConfigError, match="^storage: trial_timeout runs trials in a worker"):
        hpstudy.Study(space).run(objectives.one_hangs, n_trials=1, trial_timeout=5)
    study = hpstudy.Study(space, storage=str(tmp_path / "s.db"))
    with cf.ThreadPoolExecutor(2) as pool, \
            pytest.raises(ConfigError, match="^trial_timeout: cannot be enforced on "
                                             "executor=ThreadPoolExecutor"):
        study.run(objectives.one_hangs, n_trials=1, executor=pool, trial_timeout=5)
    for bad, rule in [(0, "must be > 0"), (-1, "must be >= 0"), (float("nan"), "finite"),
                      ("5", "must be a")]:
        with pytest.raises(ConfigError, match=f"^trial_timeout: .*{rule}"):
            study.run(objectives.one_hangs, n_trials=1, trial_timeout=bad)
    with pytest.raises(ConfigError, match="^max_failures: must be >= 1"):
        study.run(objectives.one_hangs, n_trials=1, max_failures=0)
    assert len(study.trials) == 0  # refused before anything ran


def test_sweep_extension_keys_round_trip_and_are_checked():
    d = {"method": "random", "parameters": SPACE, "trial_timeout": 90, "max_failures": 4}
    sweep = Sweep.from_dict(d)
    assert (sweep.trial_timeout, sweep.max_failures) == (90, 4)
    assert Sweep.from_dict(sweep.to_dict()) == sweep
    assert Sweep.from_text(sweep.to_yaml()) == sweep
    plain = Sweep.from_dict({"method": "random", "parameters": SPACE})  # W&B files unchanged
    assert (plain.trial_timeout, plain.max_failures) == (None, None)
    assert "trial_timeout" not in plain.to_dict()
    study = hpstudy.Study.from_sweep(sweep)
    assert (study.trial_timeout, study.max_failures) == (90, 4)
    for key, value, rule in [("trial_timeout", 0, "> 0"), ("trial_timeout", "1m", "number"),
                             ("max_failures", 0, ">= 1"), ("max_failures", 2.5, "integer")]:
        with pytest.raises(ConfigError, match=f"^{key}: .*{rule}"):
            Sweep.from_dict({**d, key: value})
    with pytest.raises(ConfigError, match="did you mean 'max_failures'"):
        Sweep.from_dict({"method": "random", "parameters": SPACE, "max_failure": 3})


# ----------------------------------------------------------------------------- max_failures
@pytest.mark.parametrize("limit", [3, 4, 5])
def test_max_failures_counts_consecutive_failures(limit):
    from tests._objectives import sometimes_bad  # trial n fails unless n % 5 == 0: runs of 4

    study = hpstudy.Study(_space(), seed=2)
    if limit > 4:  # never 5 in a row: the study runs to its end
        assert len(study.run(sometimes_bad, n_trials=12, max_failures=limit)) == 12
        return
    with pytest.raises(TooManyFailuresError) as info:
        study.run(sometimes_bad, n_trials=12, max_failures=limit)
    assert len(study.trials) == 1 + limit  # trial 0 completes, then `limit` failures
    last = study.trials[limit]
    assert info.value.failures == limit
    assert info.value.last_error == last.error.splitlines()[0]
    assert str(info.value) == (f"stopped after {limit} consecutive failed trials; "
                               f"last error: {last.error.splitlines()[0]}")


@pytest.mark.parametrize("seed", range(5))
def test_failure_streak_stops_at_the_first_run_of_failures_long_enough(seed):
    import random

    from hpstudy.study._control import FailureStreak

    rng = random.Random(seed)
    states = [rng.choice([TrialState.FAILED] * 3 + [TrialState.COMPLETE, TrialState.PRUNED])
              for _ in range(60)]
    text = "".join("F" if s is TrialState.FAILED else "." for s in states)
    for limit in (1, 2, 3, 4):
        streak, stopped_at = FailureStreak(limit), None
        for i, state in enumerate(states):
            if streak.update(state, f"error {i}\ntraceback") is not None:
                stopped_at = i
                break
        found = text.find("F" * limit)  # the oracle: where the first run of `limit` F ends
        assert stopped_at == (None if found < 0 else found + limit - 1)
        if stopped_at is not None:
            assert streak.last_error == f"error {stopped_at}"


def test_control_errors_pickle_and_are_what_scripts_expect():
    import pickle

    from hpstudy.errors import HpstudyError, StudyInterrupted

    stop = pickle.loads(pickle.dumps(StudyInterrupted(signal.SIGTERM, 7, graceful=False)))
    assert isinstance(stop, KeyboardInterrupt) and not isinstance(stop, Exception)
    assert (stop.signum, stop.kept, stop.graceful) == (15, 7, False)
    failures = pickle.loads(pickle.dumps(TooManyFailuresError(5, "boom")))
    assert isinstance(failures, HpstudyError) and isinstance(failures, RuntimeError)
    assert str(failures) == "stopped after 5 consecutive failed trials; last error: boom"


def _cli(*args: str, marks: Path, extra_env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hpstudy.cli", *args], cwd=ROOT,
                          env={**_env(marks), **(extra_env or {})}, capture_output=True,
                          text=True, timeout=120)


def _sweep_file(tmp_path: Path, **extra) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(json.dumps({"method": "random", "metric": {"name": "val_acc",
                                                               "goal": "maximize"},
                                "parameters": SPACE, **extra}))
    return path


@pytest.mark.parametrize("where", ["option", "sweep"])
def test_max_failures_stops_a_wrong_metric_name_in_the_cli(tmp_path, marks, where):
    db = tmp_path / "s.db"
    limit = 5 if where == "option" else 3
    sweep = _sweep_file(tmp_path, **({"max_failures": limit} if where == "sweep" else {}))
    args = ["run", str(sweep), "--objective", "tests._control_objectives:wrong_metric",
            "--storage", str(db), "--trials", "40"]
    out = _cli(*args, *(["--max-failures", str(limit)] if where == "option" else []),
               marks=marks)
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1
    assert out.stderr == (f"hpstudy run: error: stopped after {limit} consecutive failed "
                          f"trials; last error: objective returned no 'val_acc' (got keys "
                          f"['val_accuracy'])\n")
    trials = hpstudy.Study.load(str(db)).trials
    assert len(trials) == limit
    assert all(t.state is TrialState.FAILED for t in trials)


@pytest.mark.slow
def test_resume_keeps_the_settings_hpstudy_run_was_given(tmp_path, marks):
    db = tmp_path / "s.db"
    sweep = _sweep_file(tmp_path)
    env = {"HPSTUDY_TEST_HANG_S": "30"}  # without the timeout, the hung trial would complete
    out = _cli("run", str(sweep), "--objective", "tests._control_objectives:one_hangs",
               "--storage", str(db), "--trials", "2", "--trial-timeout", "1.5",
               "--max-failures", "3", marks=marks, extra_env={**env, "HPSTUDY_TEST_HANG_TRIAL": "1"})
    assert out.returncode == 0, out.stderr
    out = _cli("resume", str(db), "--objective", "tests._control_objectives:one_hangs",
               "--trials", "4", marks=marks, extra_env={**env, "HPSTUDY_TEST_HANG_TRIAL": "3"})
    assert out.returncode == 0, out.stderr
    trials = hpstudy.Study.load(str(db)).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAILED,
                                        TrialState.COMPLETE, TrialState.FAILED]
    assert trials[3].error == "timeout: ran longer than trial_timeout=1.5 s"
    notes = hpstudy.Study.load(str(db)).annotations
    assert (notes["trial_timeout"], notes["max_failures"]) == (1.5, 3)


def test_cli_control_options_are_checked(tmp_path, capsys):
    from hpstudy.cli import main

    sweep = _sweep_file(tmp_path)
    base = ["run", str(sweep), "--objective", "tests._control_objectives:wrong_metric",
            "--storage", str(tmp_path / "s.db"), "--trials", "3"]
    for command in (base, ["resume", str(tmp_path / "s.db")]):
        for option, value, rule in [("--trial-timeout", "0", "> 0"),
                                    ("--trial-timeout", "inf", "> 0"),
                                    ("--trial-timeout", "soon", "number of seconds"),
                                    ("--max-failures", "0", "between 1")]:
            assert main([*command, option, value]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1, err
            assert f"argument {option}: must be" in err and rule in err
    assert not (tmp_path / "s.db").exists()


# ----------------------------------------------------------------------------- graceful stops
def _start_run(tmp_path: Path, marks: Path, *, jobs: int = 2, trials: int = 2,
               extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, Path, Path]:
    db, err = tmp_path / "s.db", tmp_path / "stderr.txt"
    sweep = _sweep_file(tmp_path)
    with open(err, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hpstudy.cli", "run", str(sweep), "--objective",
             "tests._control_objectives:wait_for_release", "--storage", str(db),
             "--trials", str(trials), "--jobs", str(jobs), *extra],
            cwd=ROOT, env=_env(marks), stdout=subprocess.DEVNULL, stderr=fh,
            start_new_session=True)  # its own process group, as a terminal's job
    return proc, db, err


def _all_started(marks: Path, n: int):
    return lambda: all((marks / f"started-{k}").exists() for k in range(n))


def _said(err: Path, text: str):
    return lambda: text in err.read_text()


def _signal_once_and_release(proc: subprocess.Popen, marks: Path, err: Path, n_started: int,
                             send) -> None:
    """Once ``n_started`` trials run, ``send()`` one signal, wait for the run to say it
    starts no new trials, and let the running trials end."""
    _poll(_all_started(marks, n_started), proc)
    send()
    _poll(_said(err, "starting no new trials"), proc)
    (marks / "release").touch()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_one_signal_lets_the_running_trials_finish(tmp_path, marks, signum):
    proc, db, err = _start_run(tmp_path, marks, trials=6)
    try:
        # Ctrl-C in a terminal signals the whole process group; `kill PID` the process
        send = os.killpg if signum == signal.SIGINT else os.kill
        _signal_once_and_release(proc, marks, err, 2, lambda: send(proc.pid, signum))
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 128 + signum
    assert err.read_text().splitlines()[-1] == (f"hpstudy run: interrupted: 2 trials kept; "
                                                f"resume with `hpstudy resume {db}`")
    assert sorted(_kinds(db, "trial_created")) == [0, 1]  # none after the signal
    assert sorted(_kinds(db, "fold_finished")) == [0, 1]
    assert sorted(_kinds(db, "trial_finished")) == [0, 1]
    for t in hpstudy.Study.load(str(db)).trials:
        assert t.state is TrialState.COMPLETE
        assert t.value == pytest.approx(3.0 * t.params["x"] - 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGINT twice", "SIGTERM to the group", "SIGINT twice on dask"])
def test_interrupted_trials_stay_running_and_resume_runs_them(tmp_path, marks, how):
    on_dask = how.endswith("on dask")
    if on_dask:
        pytest.importorskip("distributed")
    proc, db, err = _start_run(tmp_path, marks, extra=("--dask", "local:2") if on_dask else ())
    try:
        _poll(_all_started(marks, 2), proc, timeout=180 if on_dask else 90)
        if how.startswith("SIGINT twice"):
            os.killpg(proc.pid, signal.SIGINT)
            _poll(_said(err, "starting no new trials"), proc)
            os.killpg(proc.pid, signal.SIGINT)
        else:  # the workers get it too (the pool ends them with SIGTERM): they end at once
            os.killpg(proc.pid, signal.SIGTERM)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == (130 if how.startswith("SIGINT twice") else 143), err.read_text()[-2000:]
    assert err.read_text().splitlines()[-1] == (f"hpstudy run: interrupted: 0 trials kept; "
                                                f"resume with `hpstudy resume {db}`")
    assert sorted(_kinds(db, "trial_created")) == [0, 1]
    assert _kinds(db, "fold_finished") == [] and _kinds(db, "trial_finished") == []
    assert not any((marks / f"finished-{k}").exists() for k in range(2))
    study = hpstudy.Study.load(str(db))
    assert [t.state for t in study.trials] == [TrialState.RUNNING] * 2
    params = [dict(t.params) for t in study.trials]
    (marks / "release").touch()
    out = _cli("resume", str(db), "--objective", "tests._control_objectives:wait_for_release",
               "--jobs", "2", marks=marks)
    assert out.returncode == 0, out.stderr
    trials = hpstudy.Study.load(str(db)).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    assert [dict(t.params) for t in trials] == params
    assert [t.value for t in trials] == pytest.approx([3.0 * p["x"] - 1.0 for p in params])


_DRIVER = textwrap.dedent("""
    import json, signal, sys
    import hpstudy
    from tests._control_objectives import wait_for_release

    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    study = hpstudy.Study(space, storage=sys.argv[1], seed=4)
    try:
        study.run(wait_for_release, n_trials=5, n_jobs=int(sys.argv[2]))
        result = {"raised": None}
    except KeyboardInterrupt as exc:
        result = {"raised": type(exc).__name__, "kept": getattr(exc, "kept", None),
                  "graceful": getattr(exc, "graceful", None)}
    result["restored"] = signal.getsignal(signal.SIGINT) is signal.default_int_handler \\
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    print(json.dumps(result))
""")


@pytest.mark.parametrize("jobs", [1, 2])
def test_python_api_stops_gracefully_then_raises_keyboard_interrupt(tmp_path, marks, jobs):
    db, err = tmp_path / "s.db", tmp_path / "stderr.txt"
    with open(err, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-c", _DRIVER, str(db), str(jobs)], cwd=ROOT,
                                env=_env(marks), stdout=subprocess.PIPE, stderr=fh, text=True,
                                start_new_session=True)
    try:
        _signal_once_and_release(proc, marks, err, jobs,
                                 lambda: os.killpg(proc.pid, signal.SIGINT))
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.read_text()
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"raised": "StudyInterrupted", "kept": jobs, "graceful": True,
                      "restored": True}
    trials = hpstudy.Study.load(str(db)).trials
    assert len(trials) == jobs  # no trial created after the signal
    assert all(t.state is TrialState.COMPLETE for t in trials)


@pytest.mark.slow
def test_confirm_stops_gracefully_too(tmp_path, marks):
    db, err = tmp_path / "s.db", tmp_path / "stderr.txt"
    (marks / "release").touch()  # the search runs through
    out = _cli("run", str(_sweep_file(tmp_path)), "--objective",
               "tests._control_objectives:wait_for_release", "--storage", str(db),
               "--trials", "4", marks=marks)
    assert out.returncode == 0, out.stderr
    for mark in marks.iterdir():
        mark.unlink()
    with open(err, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hpstudy.cli", "confirm", str(db), "--top", "2", "--jobs", "2",
             "--objective", "tests._control_objectives:wait_for_release"],
            cwd=ROOT, env=_env(marks), stdout=subprocess.DEVNULL, stderr=fh,
            start_new_session=True)
    try:
        _signal_once_and_release(proc, marks, err, 2, lambda: os.killpg(proc.pid, signal.SIGINT))
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 130
    assert err.read_text().splitlines()[-1] == (f"hpstudy confirm: interrupted: 2 trials kept; "
                                                f"resume with `hpstudy confirm {db}`")
    phase = hpstudy.Study.load_confirm(str(db))
    assert [t.state for t in phase.trials] == [TrialState.COMPLETE] * 2
