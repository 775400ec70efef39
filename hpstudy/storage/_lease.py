"""One coordinator per study file: the lease.

A coordinator (a process running :meth:`Study.run <hpstudy.Study.run>`) takes the
lease before it touches the log and gives it back when the run ends. The lease is a
row of the ``meta`` table: the coordinator's pid, host, process start time, when it
started, its last heartbeat, how many tasks it ran at once, and its *epoch*, a
number that grows with each lease. Every event is written with its writer's epoch.

A lease is *fresh* (another coordinator is refused) while its holder lives: on the
same host, while its pid is alive (and is the same process: its start time
matches); on another host, while its heartbeat is younger than :data:`STALE_AFTER_S`.
A stale lease (its holder was killed) is taken over, and the previous holder's
record tells the new coordinator what the crash may have been caused by.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sqlite3
import time
from typing import Any

import attrs

from hpstudy.errors import StorageError

__all__ = ["HEARTBEAT_S", "STALE_AFTER_S", "Lease", "acquire", "read_lease", "release", "renew"]

HEARTBEAT_S = 5.0
"""Seconds between two heartbeats of a coordinator."""
STALE_AFTER_S = 60.0
"""A lease held from another host without a heartbeat for this long is stale."""


def _start_ticks(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    if len(fields) < 20:
        return None
    if fields[0] == "Z":  # a zombie: dead, not yet waited for
        return -1
    return int(fields[19])


def _alive(pid: int, ticks: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    now = _start_ticks(pid)
    if now == -1:
        return False
    return ticks is None or now is None or now == ticks


@attrs.frozen(kw_only=True)
class Lease:
    """Who runs a study now (or ran it last, when it was killed).

    Attributes
    ----------
    pid : int
        The coordinator's process id.
    host : str
        Its host name.
    epoch : int
        The lease's number; every event the coordinator (and its workers) write carries it.
    started : float
        Unix time the lease was taken.
    heartbeat : float
        Unix time of its last heartbeat.
    n_jobs : int
        Tasks it kept in flight.
    in_process : bool
        True when objectives ran in the coordinator's own process (n_jobs 1,
        no executor): a crash of the coordinator may then be the trial's doing.
    ticks : int or None
        The process's start time (Linux clock ticks since boot), to tell a reused pid.
    """

    pid: int
    host: str
    epoch: int
    started: float
    heartbeat: float
    n_jobs: int = 1
    in_process: bool = False
    ticks: int | None = None

    def fresh(self, now: float | None = None) -> bool:
        """True while the holder lives (see the module docstring)."""
        if self.host == socket.gethostname():
            return _alive(self.pid, self.ticks)
        now = time.time() if now is None else now
        return now - self.heartbeat < STALE_AFTER_S

    def describe(self) -> str:
        """``study is being run by PID 123 on HOST since 2024-05-01 12:00:00`` (local time)."""
        since = datetime.datetime.fromtimestamp(self.started).strftime("%Y-%m-%d %H:%M:%S")
        beat = max(0.0, time.time() - self.heartbeat)
        return (f"study is being run by PID {self.pid} on {self.host} since {since} "
                f"(epoch {self.epoch}, last heartbeat {beat:.0f} s ago)")

    @classmethod
    def from_json(cls, text: str) -> Lease:
        try:
            data = json.loads(text)
            return cls(**{f.name: data[f.name] for f in attrs.fields(cls) if f.name in data})
        except (TypeError, ValueError, KeyError) as exc:
            raise StorageError(f"the lease record is not readable ({exc})") from None

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self))


def read_lease(conn: sqlite3.Connection, prefix: str = "") -> Lease | None:
    """The lease recorded in the file (fresh or not), or None.

    ``prefix``: that of the study's keys in the ``meta`` table (a study stored under a
    namespace of the file keeps its own lease and epoch: ``confirm.lease``).
    """
    row = conn.execute("SELECT value FROM meta WHERE key=?", (prefix + "lease",)).fetchone()
    return None if row is None else Lease.from_json(row[0])


def _transaction(conn: sqlite3.Connection, work: Any) -> Any:
    conn.execute("BEGIN IMMEDIATE")
    try:
        out = work()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return out


def acquire(conn: sqlite3.Connection, *, n_jobs: int, in_process: bool,
            prefix: str = "") -> tuple[Lease, Lease | None]:
    """Take the lease; return it and the stale one it replaced (None when there was none).

    Raises
    ------
    StorageError
        ``study is being run by PID ... on HOST since ...`` while another holder lives.
    """
    def work() -> tuple[Lease, Lease | None]:
        previous = read_lease(conn, prefix)
        if previous is not None and previous.fresh():
            raise StorageError(f"{previous.describe()}; one coordinator at a time (wait for it "
                               f"to end, or stop it, then resume)")
        row = conn.execute("SELECT value FROM meta WHERE key=?", (prefix + "epoch",)).fetchone()
        epoch = (int(row[0]) if row is not None else 0) + 1
        now = time.time()
        lease = Lease(pid=os.getpid(), host=socket.gethostname(), epoch=epoch, started=now,
                      heartbeat=now, n_jobs=n_jobs, in_process=in_process,
                      ticks=_start_ticks(os.getpid()))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (prefix + "lease", lease.to_json()))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (prefix + "epoch", str(epoch)))
        return lease, previous

    result: tuple[Lease, Lease | None] = _transaction(conn, work)
    return result


def renew(conn: sqlite3.Connection, epoch: int, prefix: str = "") -> bool:
    """Record a heartbeat; False when the lease is no longer ours (taken over)."""
    def work() -> bool:
        lease = read_lease(conn, prefix)
        if lease is None or lease.epoch != epoch:
            return False
        conn.execute("UPDATE meta SET value=? WHERE key=?",
                     (attrs.evolve(lease, heartbeat=time.time()).to_json(), prefix + "lease"))
        return True

    result: bool = _transaction(conn, work)
    return result


def release(conn: sqlite3.Connection, epoch: int, prefix: str = "") -> None:
    """Give the lease back (only if it is still ours)."""
    def work() -> None:
        lease = read_lease(conn, prefix)
        if lease is not None and lease.epoch == epoch:
            conn.execute("DELETE FROM meta WHERE key=?", (prefix + "lease",))

    _transaction(conn, work)
