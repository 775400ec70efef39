"""The confirm phase's storage: a second study in the search study's SQLite file.

The confirm phase (:meth:`Study.confirm <hpstudy.Study.confirm>`) is a study of its
own, with its own metadata (the row ``confirm`` of the file's ``meta`` table) and
its own append-only log (the table ``confirm_events``), so the search study's
trials, optimizer and stopper never see it, and both survive a crash the same way:
every event is committed before it is acted on, and a unique index refuses a
second ``trial_created``, ``trial_finished`` or ``fold_finished``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from typing import Any

from hpstudy.errors import DuplicateEventError, StorageError
from hpstudy.storage import Event, EventKind
from hpstudy.storage.events import payload_json, unique_key

__all__ = ["CONFIRM_KEY", "ConfirmStorage"]

CONFIRM_KEY = "confirm"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS confirm_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    number INTEGER NOT NULL,
    payload TEXT NOT NULL,
    time REAL NOT NULL,
    unique_key TEXT UNIQUE
);
"""
_WORKER_REPLAYS: dict[str, dict] = {}


class ConfirmStorage:
    """The confirm phase of the study stored at ``path`` (same file, own tables).

    Parameters
    ----------
    path : str or os.PathLike
        The search study's SQLite file.
    timeout : float
        Seconds to wait for another process's write lock.
    """

    shareable = True

    def __init__(self, path: str | os.PathLike, *, timeout: float = 60.0) -> None:
        self.path = os.fspath(path)
        self.timeout = float(timeout)
        self._local = threading.local()
        self._replays: dict = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "timeout": self.timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        ConfirmStorage.__init__(self, state["path"], timeout=state["timeout"])
        self._replays = _WORKER_REPLAYS.setdefault(self.path, {})

    def __repr__(self) -> str:
        return f"ConfirmStorage({self.path!r})"

    @property
    def _db(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                raise StorageError(f"storage {self.path!r}: cannot open as an hpstudy "
                                   f"database ({exc})") from exc
            local.conn, local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection (it reopens on next use)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    def exists(self) -> bool:
        """True when the file holds a confirm phase."""
        if not os.path.exists(self.path):
            return False
        row = self._db.execute("SELECT 1 FROM meta WHERE key=?", (CONFIRM_KEY,)).fetchone()
        return bool(row)

    def initialize(self, meta: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(meta, allow_nan=False)
        try:
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                             (CONFIRM_KEY, text))
            row = self._db.execute("SELECT value FROM meta WHERE key=?",
                                   (CONFIRM_KEY,)).fetchone()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: {exc}") from exc
        return json.loads(row[0])

    def load_meta(self) -> dict[str, Any]:
        """The confirm phase's metadata; StorageError when the file holds none."""
        if not os.path.exists(self.path):
            raise StorageError(f"storage {self.path!r}: no such file")
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key=?",
                                   (CONFIRM_KEY,)).fetchone()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: {exc}") from exc
        if row is None:
            raise StorageError(f"storage {self.path!r}: holds no confirm phase "
                               f"(run `hpstudy confirm {self.path}` first)")
        return json.loads(row[0])

    def append(self, kind: EventKind, number: int, payload: dict[str, Any]) -> int:
        text = payload_json(payload)
        key = unique_key(kind, number, payload)
        try:
            cur = self._db.execute(
                "INSERT INTO confirm_events (kind, number, payload, time, unique_key) "
                "VALUES (?, ?, ?, ?, ?)",
                (kind.value, int(number), text, time.time(),
                 None if key is None else json.dumps(key)))
        except sqlite3.IntegrityError as exc:
            raise DuplicateEventError(f"duplicate event refused: {kind.value} for trial "
                                      f"{number}") from exc
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot append ({exc})") from exc
        return int(cur.lastrowid or 0)

    def read(self, after: int = 0) -> Sequence[Event]:
        try:
            rows = self._db.execute(
                "SELECT id, kind, number, payload, time FROM confirm_events WHERE id > ? "
                "ORDER BY id", (int(after),)).fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot read ({exc})") from exc
        return [Event(id=r[0], kind=EventKind(r[1]), number=r[2], payload=json.loads(r[3]),
                      time=r[4]) for r in rows]
