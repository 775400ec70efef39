"""Objectives shared by the tests; module-level so worker processes can import them."""

from __future__ import annotations

import math
import os
import time


def quadratic(params, ctx):
    """Maximum 0 at x = 0.3; y is ignored when present."""
    return -((params["x"] - 0.3) ** 2)


def quadratic_with_metrics(params, ctx):
    return {"score": -((params["x"] - 0.3) ** 2), "aux": float(ctx.seed % 7)}


def sometimes_bad(params, ctx):
    """Fails in several ways depending on the trial number."""
    kind = ctx.trial_number % 5
    if kind == 1:
        raise RuntimeError("boom")
    if kind == 2:
        return math.nan
    if kind == 3:
        return "not a number"
    if kind == 4:
        return math.inf
    return params["x"]


def fold_mean(params, ctx):
    """The value depends on the fold, so the mean over folds is checkable."""
    return params["x"] + ctx.fold.index


def reporting(params, ctx):
    """Reports 10 steps of a curve rising to x."""
    value = 0.0
    for step in range(1, 11):
        value = params["x"] * (1 - 0.5 ** step)
        ctx.report(step, value)
    return value


def slow_deterministic(params, ctx):
    """Sleeps a little (so a kill lands mid-trial), reports 3 values, returns a pure function
    of params (``x``, or ``zeta`` in the resume driver's space). Under Hyperband with min_iter 2
    the weaker trials are pruned at iteration 2."""
    time.sleep(float(os.environ.get("HPSTUDY_TEST_SLEEP", "0.02")))
    x = params["x"] if "x" in params else params["zeta"]
    for step in range(3):
        ctx.report(step, x * step)
    return math.sin(5 * x) + x


def dies(params, ctx):
    """Kills its own worker process on trial 1."""
    if ctx.trial_number == 1:
        os._exit(3)
    return params["x"]


def reporting_folds(params, ctx):
    """Reports 6 steps of a curve rising to x, a little higher on later folds; returns the last."""
    offset = 0.01 * (0 if ctx.fold is None else ctx.fold.index)
    value = 0.0
    for step in range(1, 7):
        value = params["x"] * (1 - 0.5 ** step) + offset
        ctx.report(step, value)
    return value


def wait_for_company(params, ctx):
    """Waits (up to 60 s, or $HPSTUDY_TEST_RENDEZVOUS_TIMEOUT) until 4 trials of its group of 4 are running at once: it fails
    unless the executor really runs 4 tasks together. The folder is $HPSTUDY_TEST_RENDEZVOUS."""
    folder = os.environ["HPSTUDY_TEST_RENDEZVOUS"]
    group = ctx.trial_number // 4
    with open(os.path.join(folder, f"{group}-{ctx.trial_number}"), "w"):
        pass
    deadline = time.monotonic() + float(os.environ.get("HPSTUDY_TEST_RENDEZVOUS_TIMEOUT", "60"))
    while sum(name.startswith(f"{group}-") for name in os.listdir(folder)) < 4:
        if time.monotonic() > deadline:
            raise TimeoutError("the other 3 tasks of the group never started")
        time.sleep(0.01)
    return params["x"]


# ------------------------------------------------------------ hardening (issue 13) objectives
class _FullDiskConnection:
    """An sqlite3 connection on a full disk: inserting a ``fold_finished`` event fails
    inside SQLite, as a real ``SQLITE_FULL`` does."""

    def __init__(self, conn) -> None:
        self._conn = conn

    def execute(self, sql, *args):
        if sql.startswith("INSERT INTO events") and args and args[0][0] == "fold_finished":
            import sqlite3

            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def _full_disk_class():
    from hpstudy.storage import SQLiteStorage

    class DiskFullStorage(SQLiteStorage):
        """SQLite storage whose disk is full when a worker records a fold result."""

        @property
        def _db(self):
            return _FullDiskConnection(super()._db)

    DiskFullStorage.__qualname__ = DiskFullStorage.__name__ = "DiskFullStorage"
    DiskFullStorage.__module__ = __name__
    return DiskFullStorage


def __getattr__(name):  # the storage class is built on first use: importing this module stays light
    if name == "DiskFullStorage":
        cls = _full_disk_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


def disk_full_storage(path):
    """An SQLite storage at ``path`` whose appends of ``fold_finished`` fail: disk full."""
    return __getattr__("DiskFullStorage")(path)


def dies_among_peers(params, ctx):
    """Trial 1 kills its worker while trial 0 is still running (trial 0 waits until trial 1
    has started, then 1 s more). With $HPSTUDY_TEST_FLAG=once, trial 1 dies only on its
    first attempt. The folder for the marks is $HPSTUDY_TEST_RENDEZVOUS."""
    folder = os.environ["HPSTUDY_TEST_RENDEZVOUS"]
    started, died = os.path.join(folder, "1-started"), os.path.join(folder, "1-died")
    if ctx.trial_number == 1:
        with open(started, "w"):
            pass
        if os.environ.get("HPSTUDY_TEST_FLAG") != "once" or not os.path.exists(died):
            with open(died, "w"):
                pass
            time.sleep(0.3)
            os._exit(3)
        return params["x"]
    if ctx.trial_number == 0:
        deadline = time.monotonic() + 60
        while not os.path.exists(started) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(1.0)
    return params["x"]


class _Escape(BaseException):
    """A BaseException that is neither SystemExit nor KeyboardInterrupt."""


def exits(params, ctx):
    """Trial 1 calls sys.exit(0); trial 2 raises a bare BaseException; the others return."""
    import sys

    if ctx.trial_number == 1:
        sys.exit(0)
    if ctx.trial_number == 2:
        raise _Escape("out of here")
    return params["x"]


def interrupted(params, ctx):
    """Trial 1 is interrupted (Ctrl-C) while the file named by $HPSTUDY_TEST_FLAG exists."""
    if ctx.trial_number == 1 and os.path.exists(os.environ["HPSTUDY_TEST_FLAG"]):
        raise KeyboardInterrupt
    return params["x"]


def forks(params, ctx):
    """Forks on trial 0; the child returns from the objective as the parent does."""
    if ctx.trial_number == 0:
        os.fork()
    return params["x"]


def sleeps(params, ctx):
    """Sleeps $HPSTUDY_TEST_SLEEP seconds (default 0), then returns x."""
    time.sleep(float(os.environ.get("HPSTUDY_TEST_SLEEP", "0")))
    return params["x"]


def kills_coordinator(params, ctx):
    """Trial 2 ends the process it runs in (the coordinator, with n_jobs 1): os._exit(9)."""
    if ctx.trial_number == 2:
        os._exit(9)
    return params["x"]


def saves_artifact(params, ctx):
    """Writes its x into ctx.artifact_dir/model.txt and returns x (a 'model' to find again)."""
    (ctx.artifact_dir / "model.txt").write_text(repr(params["x"]))
    return params["x"]
