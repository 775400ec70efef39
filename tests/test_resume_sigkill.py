"""Resume after real crashes: SIGKILL a study process at random moments, then resume it."""

from __future__ import annotations

import functools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import hpstudy
from hpstudy import TrialState

ROOT = Path(__file__).resolve().parents[1]
N_TRIALS = 24


def _start(db: Path, optimizer: str, n_jobs: int = 1) -> subprocess.Popen:
    sleep = 0.25 * n_jobs * n_jobs  # long enough that 5 kills land before the study ends
    env = dict(os.environ, HPSTUDY_TEST_SLEEP=str(sleep), PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "tests._resume_driver", str(db), str(N_TRIALS), optimizer, str(n_jobs)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _events(db: Path) -> list[tuple[str, int, str]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("SELECT kind, number, payload FROM events ORDER BY id").fetchall()
    finally:
        conn.close()


def _new_events(db: Path, after: int) -> list[tuple[int, str, int]]:
    """(id, kind, number) of the events after id ``after``; [] while the file or table is missing."""
    if not db.exists():
        return []
    try:
        conn = sqlite3.connect(db, timeout=30)
        try:
            return conn.execute("SELECT id, kind, number FROM events WHERE id > ? ORDER BY id",
                                (after,)).fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:  # the driver has not created its tables yet
        return []


def _poll(proc: subprocess.Popen, found, timeout: float = 240.0):
    """Poll the database (every 10 ms) until ``found()`` returns something; None if the process ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        if proc.poll() is not None:
            return None
        time.sleep(0.01)
    raise AssertionError("the study process wrote nothing for 240 s")


def _inside_a_trial(db: Path, after: int):
    """A trial created after id ``after`` that has reported nothing yet (it is in its sleep)."""
    events = _new_events(db, after)
    reported = {number for _, kind, number in events if kind == "report"}
    created = [number for _, kind, number in events if kind == "trial_created"]
    return bool(created) and created[-1] not in reported


def _started(db: Path, after: int) -> bool:
    """True once a trial or report event was appended after id ``after``."""
    return any(kind in ("trial_created", "report") for _, kind, _ in _new_events(db, after))


def _run_with_kills(db: Path, optimizer: str, kills: int, rng: random.Random, n_jobs: int = 1) -> int:
    """Start the driver ``kills`` times and SIGKILL it; then let it finish. Returns the kills landed.

    Each kill waits, by polling the file, until this run appended its first trial or report
    event (never a fixed sleep, which loses the race when the machine is loaded). The first
    kill lands inside a trial (created, not yet reported); the others after a random delay.
    """
    landed = 0
    for attempt in range(kills):
        before = max((i for i, _, _ in _new_events(db, 0)), default=0)
        proc = _start(db, optimizer, n_jobs)
        if attempt == 0:
            under_way = _poll(proc, functools.partial(_inside_a_trial, db, before))
        else:
            under_way = _poll(proc, functools.partial(_started, db, before))
            time.sleep(rng.uniform(0.0, 0.6))
        if under_way and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            landed += 1
        proc.wait(timeout=60)
    proc = _start(db, optimizer, n_jobs)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    return landed


@pytest.mark.parametrize("optimizer", ["random", "bayes"])
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path, optimizer):
    reference_db = tmp_path / "reference.db"
    proc = _start(reference_db, optimizer)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    reference = hpstudy.Study.load(reference_db).trials

    db = tmp_path / "killed.db"
    landed = _run_with_kills(db, optimizer, kills=5, rng=random.Random(optimizer))
    assert landed == 5
    resumed = hpstudy.Study.load(db).trials

    assert len(resumed) == N_TRIALS
    assert all(t.state.is_finished() for t in resumed)
    assert {TrialState.COMPLETE, TrialState.PRUNED} == {t.state for t in resumed}
    assert [t.params for t in resumed] == [t.params for t in reference]
    assert [t.value for t in resumed] == [t.value for t in reference]
    assert [t.seed for t in resumed] == [t.seed for t in reference]
    # the stopper's decisions after the crashes are the uninterrupted run's
    assert [t.state for t in resumed] == [t.state for t in reference]
    assert [t.decisions for t in resumed] == [t.decisions for t in reference]

    events = _events(db)
    counts = Counter((kind, number) for kind, number, _ in events if kind != "report")
    for (kind, number), n in counts.items():
        if kind in ("trial_created", "trial_finished", "fold_finished"):
            assert n == 1, (kind, number)
    restarted = [number for kind, number, _ in events if kind == "trial_restarted"]
    assert restarted, "no kill landed inside a trial: the test proved nothing"
    # a restarted trial's reports of the killed attempt are dropped from its record
    for number in restarted:
        assert len(resumed[number].reports) == len(reference[number].reports)


@pytest.mark.slow
def test_sigkill_with_a_process_pool(tmp_path):
    db = tmp_path / "pool.db"
    landed = _run_with_kills(db, "random", kills=3, rng=random.Random(5), n_jobs=2)
    assert landed >= 2
    trials = hpstudy.Study.load(db).trials
    assert len(trials) == N_TRIALS
    assert all(t.state.is_finished() for t in trials)
    events = _events(db)
    counts = Counter((k, n) for k, n, _ in events if k in ("trial_created", "trial_finished"))
    assert set(counts.values()) == {1}
