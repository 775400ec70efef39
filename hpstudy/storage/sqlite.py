"""SQLite storage: the default, one file per study, safe across processes.

The database runs in WAL mode, so ``hpstudy status`` can read while a study
writes. Every append is its own transaction, committed before ``append``
returns. With ``synchronous=NORMAL`` (the default here) a committed event
survives a crash of any process (SIGKILL included); ``durability="full"`` also
survives a power cut, at the cost of an fsync per event.

Uniqueness rules (one ``trial_created`` and one ``trial_finished`` per trial, one
``fold_finished`` per trial and fold) are enforced by a unique index, so no
interleaving of processes can record a result twice.

Each thread (and each process) gets its own connection, so one storage object
may be used by the threads of a thread-pool executor.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from typing import Any

from hpstudy.errors import ConfigError, DuplicateEventError, StorageError
from hpstudy.storage.events import Event, EventKind, payload_json, unique_key

__all__ = ["SQLiteStorage"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    number INTEGER NOT NULL,
    payload TEXT NOT NULL,
    time REAL NOT NULL,
    unique_key TEXT UNIQUE
);
"""
_SYNC = {"normal": "NORMAL", "full": "FULL"}
# path -> the replays shared by the storage objects a worker process unpickles (see __setstate__)
_WORKER_REPLAYS: dict[str, dict] = {}


class SQLiteStorage:
    """An append-only event log in an SQLite file.

    Parameters
    ----------
    path : str or os.PathLike
        The database file; created when missing.
    durability : {"normal", "full"}
        SQLite's ``synchronous`` setting in WAL mode (see the module docstring).
    timeout : float
        Seconds to wait for another process's write lock.
    """

    shareable = True

    def __init__(self, path: str | os.PathLike, *, durability: str = "normal",
                 timeout: float = 60.0) -> None:
        if durability not in _SYNC:
            raise ConfigError(f"durability: must be one of {sorted(_SYNC)} (got {durability!r})")
        self.path = os.fspath(path)
        self.durability = durability
        self.timeout = float(timeout)
        self._local = threading.local()  # this thread's connection and the pid that opened it
        self._replays: dict = {}  # the replays of this storage's studies (``replay_of``)

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "durability": self.durability, "timeout": self.timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        SQLiteStorage.__init__(self, state["path"], durability=state["durability"],
                               timeout=state["timeout"])
        # a worker process unpickles a new storage object per task: its tasks share one
        # replay per study (replays are keyed by the study id, so a new study at this
        # path never sees an old one's trials)
        self._replays = _WORKER_REPLAYS.setdefault(self.path, {})

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r})"

    @property
    def _db(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():  # never share a connection across fork
            try:
                conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={_SYNC[self.durability]}")
                conn.executescript(_SCHEMA)
            except sqlite3.DatabaseError as exc:
                raise StorageError(f"storage {self.path!r}: cannot open as an hpstudy database ({exc})") from exc
            local.conn, local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection (it reopens on next use)."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            conn.close()
        local.conn = None

    def exists(self) -> bool:
        """True when the file holds a study's metadata."""
        if not os.path.exists(self.path):
            return False
        return bool(self._db.execute("SELECT 1 FROM meta WHERE key='study'").fetchone())

    def initialize(self, meta: dict[str, Any]) -> dict[str, Any]:
        # insertion order is kept: the space's parameter order decides the suggestions
        text = json.dumps(meta, allow_nan=False)
        try:
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('study', ?)", (text,))
            row = self._db.execute("SELECT value FROM meta WHERE key='study'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"storage {self.path!r}: {exc}") from exc
        return json.loads(row[0])

    def load_meta(self) -> dict[str, Any]:
        """The stored metadata; StorageError when the file holds no study."""
        if not os.path.exists(self.path):
            raise StorageError(f"storage {self.path!r}: no such file")
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key='study'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"storage {self.path!r}: {exc}") from exc
        if row is None:
            raise StorageError(f"storage {self.path!r}: holds no hpstudy study")
        return json.loads(row[0])

    def append(self, kind: EventKind, number: int, payload: dict[str, Any]) -> int:
        text = payload_json(payload)
        key = unique_key(kind, number, payload)
        try:
            cur = self._db.execute(
                "INSERT INTO events (kind, number, payload, time, unique_key) VALUES (?, ?, ?, ?, ?)",
                (kind.value, int(number), text, time.time(),
                 None if key is None else json.dumps(key)),
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateEventError(f"duplicate event refused: {kind.value} for trial {number}") from exc
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"storage {self.path!r}: cannot append ({exc})") from exc
        if cur.lastrowid is None:  # pragma: no cover (an INSERT always sets it)
            raise StorageError(f"storage {self.path!r}: the append got no row id")
        return int(cur.lastrowid)

    def read(self, after: int = 0) -> Sequence[Event]:
        try:
            rows = self._db.execute(
                "SELECT id, kind, number, payload, time FROM events WHERE id > ? ORDER BY id",
                (int(after),),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"storage {self.path!r}: cannot read ({exc})") from exc
        return [Event(id=r[0], kind=EventKind(r[1]), number=r[2], payload=json.loads(r[3]), time=r[4])
                for r in rows]
