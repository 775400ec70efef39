"""CI: a real ``dask scheduler`` and 2 ``dask worker`` processes on localhost, driven by
``hpstudy run --dask``: a bayes study with Hyperband, one worker killed mid-trial, the
coordinator killed and resumed; nothing lost, nothing recorded twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

import hpstudy  # noqa: E402
from hpstudy.storage import EventKind, SQLiteStorage  # noqa: E402
from hpstudy.trials import TrialState  # noqa: E402
from tests._polling import wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
N_TRIALS = 10
STEPS = 8

SWEEP = """
method: bayes
metric: {name: value, goal: maximize}
parameters:
  x: {distribution: uniform, min: 0.0, max: 1.0}
early_terminate: {type: hyperband, min_iter: 1, eta: 2}
"""


def ci_curve(params, ctx):
    """8 reports, 0.15 s apart, ending at x (a pure function of the parameters)."""
    for step in range(STEPS):
        ctx.report(step, params["x"] * (step + 1) / STEPS)
        time.sleep(0.15)
    return params["x"]




def _log(path):
    try:
        return SQLiteStorage(path, read_only=True).read() if path.exists() else []
    except hpstudy.StorageError:  # the coordinator has not created the tables yet
        return []


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two workers (with nannies) as separate processes; always torn down."""
    work = tmp_path / "workers"  # the workers' cwd: the study file is not there
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), DASK_DISTRIBUTED__WORKER__DAEMON="False")
    scheduler_file = tmp_path / "scheduler.json"
    procs = []

    def start(*args):
        proc = subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=work, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        procs.append(proc)
        return proc

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(scheduler_file))
        wait_for(scheduler_file.exists, "the scheduler file")
        address = wait_for(lambda: json.loads(scheduler_file.read_text() or "{}").get("address"),
                            "the scheduler's address")
        for name in ("w1", "w2"):
            start("worker", address, "--nthreads", "1", "--nworkers", "1", "--name", name,
                  "--no-dashboard", "--host", "127.0.0.1")
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            yield address, client, env
    finally:
        for proc in reversed(procs):  # the whole session: nanny and worker alike
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(30)


def _kill_worker_running(client, number):
    pids = client.run(os.getpid)
    for worker, keys in client.processing().items():
        if any(str(k).startswith(f"hpstudy-{number}-") for k in keys):
            os.kill(pids[worker], signal.SIGKILL)
            return number
    return None


def _mid_trial(path, after=frozenset()):
    """A trial, not in ``after``, running with at least 2 reports."""
    log = _log(path)
    done = {e.number for e in log if e.kind is EventKind.TRIAL_FINISHED}
    for e in log:
        if e.kind is EventKind.REPORT and e.number not in done and e.number not in after \
                and e.payload["step"] >= 2:
            return e.number + 1  # truthy
    return None


@pytest.mark.slow
def test_hpstudy_run_on_a_real_scheduler_and_workers_survives_kills(cluster, tmp_path):
    address, client, env = cluster
    sweep, path = tmp_path / "sweep.yaml", tmp_path / "study.db"
    sweep.write_text(SWEEP)
    objective = "tests.test_dask_cli:ci_curve"
    run = [sys.executable, "-m", "hpstudy.cli", "run", str(sweep), "--objective", objective,
           "--storage", str(path), "--trials", str(N_TRIALS), "--seed", "4", "--dask", address]
    coordinator = subprocess.Popen(run, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
    try:
        # a worker killed mid-trial (max_retries is 0: that trial is FAILED, with the reason)
        victim = wait_for(lambda: _mid_trial(path), "a trial with reports") - 1
        wait_for(lambda: _kill_worker_running(client, victim) is not None, "the victim's worker")
        wait_for(lambda: any(e.kind is EventKind.TRIAL_FINISHED and e.number == victim
                              for e in _log(path)), "the victim's end")
        # then the coordinator, once a trial started after that is running
        wait_for(lambda: _mid_trial(path, after=set(range(victim + 2))), "a later trial")
    finally:
        coordinator.kill()
        coordinator.wait(30)
    before = hpstudy.Study.load(path).trials
    kept = {t.number: t for t in before if t.state is not TrialState.RUNNING}
    assert any(t.state is TrialState.RUNNING for t in before)
    n_events = len(_log(path))

    resume = [sys.executable, "-m", "hpstudy.cli", "resume", str(path), "--objective", objective,
              "--dask", address]
    done = subprocess.run(resume, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]

    log = _log(path)
    created = [e.number for e in log if e.kind is EventKind.TRIAL_CREATED]
    finished = [e.number for e in log if e.kind is EventKind.TRIAL_FINISHED]
    assert sorted(created) == list(range(N_TRIALS)) == sorted(finished)  # nothing twice
    trials = hpstudy.Study.load(path).trials
    for number, t in kept.items():  # nothing finished is lost, or changed
        assert trials[number] == t
    killed = trials[victim]
    assert killed.state is TrialState.FAILED and "worker died" in killed.error
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    for t in trials:
        if t.number == victim:
            continue
        assert t.state in (TrialState.COMPLETE, TrialState.PRUNED), t
        steps = [r.step for r in t.reports]
        assert steps == list(range(len(steps)))  # each report once: killed attempts dropped
        if t.state is TrialState.COMPLETE:
            assert len(steps) == STEPS and t.value == pytest.approx(t.params["x"])
    assert pruned  # Hyperband ran, its reports and decisions through Dask
    old_epoch = max(e.epoch for e in log[:n_events])
    assert all(e.epoch > old_epoch for e in log[n_events:])  # the dead coordinator wrote nothing


@pytest.mark.parametrize("spec, message", [
    ("local:0", "--dask: local:N needs 1 <= N <="),
    ("local:x", "--dask: local:N needs 1 <= N <="),
    ("nonsense", "--dask: must be a scheduler address (tcp://host:8786) or local:N"),
])
def test_a_bad_dask_address_is_one_line_and_rc_2(tmp_path, capsys, spec, message):
    from hpstudy.cli import main

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP)
    rc = main(["run", str(sweep), "--objective", "tests.test_dask_cli:ci_curve", "--storage",
               str(tmp_path / "s.db"), "--trials", "2", "--dask", spec])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slow_flat(params, ctx):
    """12 reports, 0.1 s apart; returns x."""
    for step in range(12):
        ctx.report(step, params["x"])
        time.sleep(0.1)
    return params["x"]


@pytest.mark.slow
def test_the_scheduler_restarted_mid_study(tmp_path):
    """The scheduler dies and comes back on its address; workers are started again (Dask's
    workers do not outlive their scheduler: a supervisor restarts them). The study goes on:
    the lost tasks run again, nothing is lost or recorded twice."""
    import threading

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs: list[subprocess.Popen] = []

    def start(*args):
        procs.append(subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=tmp_path,
                                      env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))
        return procs[-1]

    def workers(*names):
        for name in names:
            start("worker", address, "--nthreads", "1", "--name", name, "--no-dashboard",
                  "--host", "127.0.0.1")

    def kill(proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(30)

    path = tmp_path / "study.db"
    try:
        scheduler = start("scheduler", "--host", "127.0.0.1", "--port", str(port),
                          "--no-dashboard")
        workers("w1", "w2")
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            study = hpstudy.Study(hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)}),
                                  storage=path, seed=9)
            box: dict = {}

            def run():
                try:
                    box["trials"] = study.run(slow_flat, n_trials=6, client=client,
                                              progress=False)
                except BaseException as exc:  # pragma: no cover (shown by the test)
                    box["error"] = exc

            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            wait_for(lambda: _mid_trial(path) or "error" in box, "a trial with reports")
            old_workers = procs[1:]
            kill(scheduler)
            start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
            for proc in old_workers:  # what a supervisor does when its workers exit
                kill(proc)
            workers("w3", "w4")
            thread.join(240)
            assert not thread.is_alive() and "error" not in box, box
    finally:
        for proc in reversed(procs):
            kill(proc)
    log = _log(path)
    created = [e.number for e in log if e.kind is EventKind.TRIAL_CREATED]
    finished = [e.number for e in log if e.kind is EventKind.TRIAL_FINISHED]
    assert sorted(created) == list(range(6)) == sorted(finished)
    for t in box["trials"]:
        assert t.state is TrialState.COMPLETE and t.value == t.params["x"]
        assert [r.step for r in t.reports] == list(range(12))
    assert any(e.kind is EventKind.TRIAL_RESTARTED for e in log)  # the lost tasks ran again


@pytest.mark.slow
def test_sigterm_on_a_local_dask_cluster_lets_running_trials_finish(tmp_path):
    """``--dask local:2``: SIGTERM to the coordinator starts nothing new, lets the running
    trials finish and be recorded, exits 143 with the resume hint."""
    sweep, path = tmp_path / "sweep.yaml", tmp_path / "study.db"
    sweep.write_text(SWEEP)
    run = [sys.executable, "-m", "hpstudy.cli", "run", str(sweep), "--objective",
           "tests.test_dask_cli:ci_curve", "--storage", str(path), "--trials", "40",
           "--dask", "local:2"]
    proc = subprocess.Popen(run, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        running = wait_for(lambda: _mid_trial(path), "a trial with reports") - 1
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 143, err[-2000:]
    assert "interrupted:" in err and "hpstudy resume" in err
    trials = hpstudy.Study.load(path).trials
    assert len(trials) < 40 and not trials.running  # nothing left half-done
    assert trials[running].state in (TrialState.COMPLETE, TrialState.PRUNED)
    if trials[running].state is TrialState.COMPLETE:  # it ran to its end after the signal
        assert len(trials[running].reports) == STEPS
