"""Studies on a Dask cluster (``Study.run(client=...)``): a real ``LocalCluster`` of worker
processes; reports and results reach the study file only through the coordinator."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import time

import pytest

distributed = pytest.importorskip("distributed")

import hpstudy  # noqa: E402
from hpstudy.errors import ConfigError  # noqa: E402
from hpstudy.stopping import Hyperband  # noqa: E402
from hpstudy.storage import EventKind, SQLiteStorage  # noqa: E402
from hpstudy.trials import TrialState  # noqa: E402
from tests._polling import wait_for  # noqa: E402


# ----------------------------------------------------------------------------- objectives
# (workers import them from this module)
def curve(params, ctx):
    """A learning curve that ends at ``x * 4``: Hyperband stops the low ones early."""
    value = 0.0
    for step in range(4):
        value = params["x"] * (step + 1)
        ctx.report(step, value)
        time.sleep(0.01)
    return value


def slow_curve(params, ctx):
    """Reports every 0.1 s for 1.5 s (a kill lands mid-trial); a pure function of x."""
    for step in range(15):
        ctx.report(step, params["x"] * step)
        time.sleep(0.1)
    return params["x"]


def hangs(params, ctx):
    ctx.report(0, params["x"])
    if params["x"] > 0.5:
        time.sleep(600)
    return params["x"]


_GUARD: dict[str, int] = {"opened": 0}


def guard_sqlite() -> int:
    """On a worker: make every SQLite open fail (and count the attempts)."""
    def refuse(*args, **kwargs):
        _GUARD["opened"] += 1
        raise sqlite3.OperationalError("workers must not open the study file")

    sqlite3.connect = refuse  # type: ignore[assignment]
    return os.getpid()


def sqlite_opens() -> int:
    return _GUARD["opened"]


class GuardPlugin(distributed.WorkerPlugin):
    """Installs the guard on every worker, those the nanny restarts after a kill included."""

    def setup(self, worker):
        guard_sqlite()


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        c.register_plugin(GuardPlugin())
        yield c
        assert sum(c.run(sqlite_opens).values()) == 0


def space():
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


def events(path):
    return SQLiteStorage(path, read_only=True).read()


def events_so_far(path):
    """The log, or [] while the coordinator has not created it yet."""
    try:
        return events(path) if path.exists() else []
    except hpstudy.StorageError:
        return []


def check_log(path, n_trials):
    """Every trial created once, finished once, its fold recorded once per epoch."""
    log = events(path)
    created = [e.number for e in log if e.kind is EventKind.TRIAL_CREATED]
    finished = [e.number for e in log if e.kind is EventKind.TRIAL_FINISHED]
    assert sorted(created) == list(range(n_trials))
    assert sorted(finished) == list(range(n_trials))
    return log


# ----------------------------------------------------------------------------- tests
@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["random", "bayes"])
def test_hyperband_reports_travel_through_dask(client, tmp_path, optimizer):
    path = tmp_path / "study.db"
    study = hpstudy.Study(space(), optimizer=optimizer, stopper=Hyperband(min_iter=1, eta=2),
                          storage=path, seed=4)
    trials = study.run(curve, n_trials=12, client=client)
    assert len(trials) == 12
    log = check_log(path, 12)
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    assert pruned and complete
    for t in trials:
        steps = [r.step for r in t.reports]
        assert steps == list(range(len(steps)))  # each report recorded once, in order
        assert [r.value for r in t.reports] == pytest.approx([t.params["x"] * (s + 1) for s in steps])
    for t in pruned:  # the stop decision, taken on the worker, is in the log
        last = t.decisions[-1]
        assert last.stop and last.step == t.reports[-1].step and last.value == t.reports[-1].value
        assert t.value == pytest.approx(t.reports[-1].value)
    for t in complete:
        assert t.value == pytest.approx(t.params["x"] * 4)
    # the workers never opened the study file: every event was written by the coordinator
    assert sum(client.run(sqlite_opens).values()) == 0
    epochs = {e.epoch for e in log}
    assert len(epochs) == 1 and None not in epochs  # all written under the coordinator's lease


def test_an_in_memory_study_runs_on_dask(client):
    # memory is not shared with worker processes: only the channel can carry the events
    study = hpstudy.Study(space(), stopper=Hyperband(min_iter=1, eta=2), seed=1)
    trials = study.run(curve, n_trials=4, client=client)
    assert len(trials) == 4 and all(t.reports for t in trials)


def test_client_and_executor_are_exclusive(client):
    with pytest.raises(ConfigError, match="client: give either client= or executor="):
        hpstudy.Study(space()).run(curve, n_trials=1, client=client, executor=client.get_executor())
    with pytest.raises(ConfigError, match="client: must be a dask.distributed.Client"):
        hpstudy.Study(space()).run(curve, n_trials=1, client=object())


def test_the_cluster_width_is_used(client, tmp_path):
    study = hpstudy.Study(space(), storage=tmp_path / "s.db", seed=2)
    study.run(slow_curve, n_trials=4, client=client)
    trials = study.trials
    # 2 workers of 1 thread: two trials run at once, never three
    spans = [(t.started_at, t.finished_at) for t in trials]
    overlaps = [sum(1 for a, b in spans if a <= s < b) for s, _ in spans]
    assert max(overlaps) == 2


# ----------------------------------------------------------------------------- faults


def _kill_worker_running(client, number, fold=None):
    """SIGKILL the worker process that runs trial ``number`` (or its fold ``fold``), found
    by its task key."""
    prefix = f"hpstudy-{number}-" if fold is None else f"hpstudy-{number}-{fold}-"
    pids = client.run(os.getpid)
    for worker, keys in client.processing().items():
        if any(str(k).startswith(prefix) for k in keys):
            os.kill(pids[worker], signal.SIGKILL)
            return pids[worker]
    return None


def _reported(path, number, step):
    return any(e.kind is EventKind.REPORT and e.number == number and e.payload["step"] >= step
               for e in events_so_far(path))


def _run_in_thread(study, objective, **kwargs):
    import threading

    box: dict = {}

    def target():
        try:
            box["trials"] = study.run(objective, **kwargs)
        except BaseException as exc:  # pragma: no cover (shown by the test)
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


@pytest.mark.slow
@pytest.mark.parametrize("max_retries", [1, 0])
def test_a_worker_killed_mid_trial(client, tmp_path, max_retries):
    path = tmp_path / "study.db"
    study = hpstudy.Study(space(), storage=path, seed=5 + max_retries)
    thread, box = _run_in_thread(study, slow_curve, n_trials=4, client=client,
                                 max_retries=max_retries)
    wait_for(lambda: _reported(path, 0, 3) or "error" in box, what="trial 0's fourth report")
    assert "error" not in box, box
    killed = wait_for(lambda: _kill_worker_running(client, 0), what="the worker of trial 0")
    thread.join(150)
    assert not thread.is_alive() and "error" not in box, box
    trials = box["trials"]
    log = check_log(path, 4)
    t0 = trials[0]
    restarts = [e for e in log if e.kind is EventKind.TRIAL_RESTARTED and e.number == 0]
    if max_retries:
        assert t0.state is TrialState.COMPLETE and t0.value == pytest.approx(t0.params["x"])
        assert len(restarts) == 1 and restarts[0].payload == {"worker_died": True, "fold": 0}
        # the killed attempt's reports are dropped: the rerun's 15 reports, once each
        assert [r.step for r in t0.reports] == list(range(15))
    else:
        assert t0.state is TrialState.FAILED and "worker died" in t0.error
        assert not restarts
    # the other trials are unaffected, each run to its end once
    for t in trials[1:]:
        assert t.state is TrialState.COMPLETE and [r.step for r in t.reports] == list(range(15))
    assert killed not in client.run(os.getpid).values()


def _fold_reported(path, number, fold, step):
    return any(e.kind is EventKind.REPORT and e.number == number and e.payload["fold"] == fold
               and e.payload["step"] >= step for e in events_so_far(path))


def fold_curves(params, ctx):
    """Fold 0 reports every 0.1 s for 4 s, fold 1 for 1.5 s; a pure function of x."""
    for step in range(40 if ctx.fold.index == 0 else 15):
        ctx.report(step, params["x"] * step)
        time.sleep(0.1)
    return params["x"]


@pytest.mark.slow
def test_a_worker_killed_in_one_fold_reruns_that_fold_alone(tmp_path):
    """Trial 0's two folds run side by side; the worker of fold 1 is killed mid-fold and
    fold 1 runs again on a third worker while fold 0 goes on. Fold 0's reports from
    before the kill stay in the replay (each of its 40 steps once); fold 1's killed
    attempt's are dropped (its 15 steps once)."""
    from hpstudy import evaluation

    path = tmp_path / "study.db"
    study = hpstudy.Study(space(), storage=path, seed=11,
                          folds=evaluation.kfold(20, n_splits=2, seed=0))
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        thread, box = _run_in_thread(study, fold_curves, n_trials=1, client=client,
                                     max_retries=1)
        wait_for(lambda: (_fold_reported(path, 0, 0, 3) and _fold_reported(path, 0, 1, 3))
                 or "error" in box, what="both folds' fourth report")
        assert "error" not in box, box
        killed = wait_for(lambda: _kill_worker_running(client, 0, fold=1), what="fold 1's worker")
        thread.join(150)
        assert not thread.is_alive() and "error" not in box, box
        assert killed not in client.run(os.getpid).values()
    log = check_log(path, 1)
    restarts = [e for e in log if e.kind is EventKind.TRIAL_RESTARTED]
    assert [e.payload for e in restarts] == [{"worker_died": True, "fold": 1}]
    fold0_done = next(e for e in log if e.kind is EventKind.FOLD_FINISHED
                      and e.payload["fold"] == 0)
    assert restarts[0].id < fold0_done.id  # fold 0 was still running at the restart
    t0 = box["trials"][0]
    assert t0.state is TrialState.COMPLETE and t0.value == pytest.approx(t0.params["x"])
    assert [f.state for f in t0.folds] == [TrialState.COMPLETE] * 2
    assert [r.step for r in t0.reports if r.fold == 0] == list(range(40))
    assert [r.step for r in t0.reports if r.fold == 1] == list(range(15))
    # fold 0 ran once: its 40 reports are all in the log, none written twice
    assert sum(e.kind is EventKind.REPORT and e.payload["fold"] == 0 for e in log) == 40


COORDINATOR = """
import sys, distributed, hpstudy
from tests.test_dask import slow_curve, space
with distributed.Client(sys.argv[1]) as client:
    hpstudy.Study(space(), storage=sys.argv[2], seed=7).run(slow_curve, n_trials=6, client=client)
"""


@pytest.mark.slow
def test_the_coordinator_killed_then_resumed(client, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "study.db"
    proc = subprocess.Popen([sys.executable, "-c", COORDINATOR, client.scheduler.address, str(path)],
                            cwd=os.path.dirname(os.path.dirname(__file__)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def one_done_one_running():
            log = events_so_far(path)
            done = {e.number for e in log if e.kind is EventKind.TRIAL_FINISHED}
            return done and any(e.kind is EventKind.REPORT and e.number not in done
                                and e.payload["step"] >= 2 for e in log)
        wait_for(one_done_one_running, what="a finished trial and a running one")
    finally:
        proc.kill()
        proc.wait(30)
    before = hpstudy.Study.load(path).trials
    finished_before = {t.number: t for t in before if t.state is not TrialState.RUNNING}
    running_before = [t.number for t in before if t.state is TrialState.RUNNING]
    assert finished_before and running_before
    old_epoch = max(e.epoch for e in events(path))
    n_before = len(events(path))

    study = hpstudy.Study(space(), storage=path, seed=7)  # resume, against the same cluster
    trials = study.run(slow_curve, n_trials=6 - len(before), client=client)
    log = check_log(path, 6)
    for number, t in finished_before.items():  # nothing finished is lost or run again
        assert trials[number] == t
    for t in trials:
        assert t.state is TrialState.COMPLETE and t.value == pytest.approx(t.params["x"])
        assert [r.step for r in t.reports] == list(range(15))  # the killed attempts' dropped
    # the dead coordinator's tasks wrote nothing after its death (they reach no one)
    assert all(e.epoch > old_epoch for e in log[n_before:])
    # the trials left RUNNING ran again, but one whose fold was recorded (its end not yet)
    restarted = {e.number for e in log if e.kind is EventKind.TRIAL_RESTARTED}
    assert restarted == {n for n in running_before if not before[n].folds}


@pytest.mark.slow
def test_trial_timeout_on_dask_ends_the_task_and_restarts_its_worker(client, tmp_path):
    path = tmp_path / "study.db"
    pids = set(client.run(os.getpid).values())
    study = hpstudy.Study(space(), storage=path, seed=11)
    started = time.monotonic()
    trials = study.run(hangs, n_trials=6, client=client, trial_timeout=3.0)
    assert time.monotonic() - started < 120  # nobody waited for the 600 s sleeps
    check_log(path, 6)
    slow = [t for t in trials if t.params["x"] > 0.5]
    fast = [t for t in trials if t.params["x"] <= 0.5]
    assert slow and fast
    for t in slow:
        assert t.state is TrialState.FAILED and t.error == "timeout: ran longer than trial_timeout=3 s"
    for t in fast:
        assert t.state is TrialState.COMPLETE and t.value == t.params["x"]
    # the hung workers were restarted (a thread cannot be stopped otherwise)
    wait_for(lambda: len(client.run(os.getpid)) == 2, what="two workers again")
    assert set(client.run(os.getpid).values()) != pids


@pytest.mark.slow
def test_workers_that_join_get_trials_and_n_jobs_caps_them(tmp_path):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        path = tmp_path / "grow.db"
        study = hpstudy.Study(space(), storage=path, seed=8)
        thread, box = _run_in_thread(study, slow_curve, n_trials=5, client=c)
        wait_for(lambda: _reported(path, 0, 1) or "error" in box, what="the first trial")
        cluster.scale(2)  # a worker joins mid-study
        thread.join(150)
        assert not thread.is_alive() and "error" not in box, box
        spans = [(t.started_at, t.finished_at) for t in box["trials"]]
        assert spans[0][0] < spans[1][0]  # trial 1 waited for a slot ...
        overlaps = [sum(1 for a, b in spans if a <= s < b) for s, _ in spans]
        assert max(overlaps) == 2  # ... and the new worker ran trials beside the first one

        capped = hpstudy.Study(space(), storage=tmp_path / "capped.db", seed=8)
        capped.run(slow_curve, n_trials=3, client=c, n_jobs=1)
        spans = sorted((t.started_at, t.finished_at) for t in capped.trials)
        assert all(b0 <= a1 for (_, b0), (a1, _) in zip(spans, spans[1:], strict=False))


def test_an_objective_workers_cannot_import_fails_its_trials_and_max_failures_stops(
        client, tmp_path, monkeypatch):
    # a module only this process can import (the workers started before it existed)
    (tmp_path / "only_here_objective.py").write_text(
        "def objective(params, ctx):\n    return params['x']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from only_here_objective import objective  # noqa: I001

    study = hpstudy.Study(space(), storage=tmp_path / "s.db", seed=1)
    with pytest.raises(hpstudy.errors.TooManyFailuresError, match="ModuleNotFoundError"):
        study.run(objective, n_trials=10, client=client, max_failures=3)
    trials = study.trials
    assert 3 <= len(trials) < 10 and not trials.running
    assert all(t.state is TrialState.FAILED and "only_here_objective" in t.error for t in trials)


@pytest.mark.slow
def test_the_throughput_benchmark_runs(capsys):
    from benchmarks import bench_throughput

    assert bench_throughput.main(["--workers", "1", "--objectives", "cpu", "--trials", "2"]) == 0
    out = capsys.readouterr().out
    for library in ("hpstudy dask", "hpstudy pool", "optuna journal"):
        assert re.search(rf"^{library} +1 +\d+\.\d\d +1\.00 ", out, re.M), out
