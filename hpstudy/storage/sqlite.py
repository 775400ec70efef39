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

Readers open the file read-only (``read_only=True``: status, export, reports):
they never write, not even the WAL switch, and work on read-only media. A writer
refuses a database that holds another program's tables. A row that cannot be
decoded stops the read with ``StorageError: ... event 123 is not readable``: a
study is never half-read. Writers checkpoint the WAL every
:data:`CHECKPOINT_EVERY` appends, cap its size after a checkpoint, and warn once
when it passes :data:`WAL_WARN_BYTES` (a reader holding a transaction open keeps
it from being reset).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import urllib.parse
import warnings
from collections.abc import Sequence
from typing import Any

from hpstudy.errors import ConfigError, DuplicateEventError, StorageError
from hpstudy.storage import _lease
from hpstudy.storage.events import Event, EventKind, payload_json, unique_key

__all__ = ["CHECKPOINT_EVERY", "WAL_WARN_BYTES", "SQLiteStorage"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    number INTEGER NOT NULL,
    payload TEXT NOT NULL,
    time REAL NOT NULL,
    unique_key TEXT UNIQUE,
    epoch INTEGER
);
"""
_OWN_TABLES = {"meta", "events", "sqlite_sequence"}
_SYNC = {"normal": "NORMAL", "full": "FULL"}
CHECKPOINT_EVERY = 1000
"""A writer runs a passive WAL checkpoint every this many appends."""
WAL_WARN_BYTES = 256 * 2**20
"""Warn (once per storage object) when the WAL file passes this size."""
_WAL_LIMIT_BYTES = 64 * 2**20  # SQLite truncates the WAL to this size after a checkpoint
# path -> the replays shared by the storage objects a worker process unpickles (see __setstate__)
_WORKER_REPLAYS: dict[str, dict] = {}


class SQLiteStorage:
    """An append-only event log in an SQLite file.

    Parameters
    ----------
    path : str or os.PathLike
        The database file; created when missing (unless ``read_only``).
    durability : {"normal", "full"}
        SQLite's ``synchronous`` setting in WAL mode (see the module docstring).
    timeout : float
        Seconds to wait for another process's write lock.
    read_only : bool
        Open the file read-only (``mode=ro``; on read-only media, as immutable):
        reading never writes to it, and appending raises StorageError.

    Attributes
    ----------
    epoch : int or None
        The lease epoch written with every event (set by the coordinator that holds
        the lease, and sent with the storage to its workers).
    """

    shareable = True
    heartbeat_s = _lease.HEARTBEAT_S  # seconds between a coordinator's heartbeats

    def __init__(self, path: str | os.PathLike, *, durability: str = "normal",
                 timeout: float = 60.0, read_only: bool = False) -> None:
        if durability not in _SYNC:
            raise ConfigError(f"durability: must be one of {sorted(_SYNC)} (got {durability!r})")
        self.path = os.fspath(path)
        self.durability = durability
        self.timeout = float(timeout)
        self.read_only = bool(read_only)
        self.epoch: int | None = None
        self._local = threading.local()  # this thread's connection and the pid that opened it
        self._replays: dict = {}  # the replays of this storage's studies (``replay_of``)
        self._has_epoch: bool | None = None  # whether the events table has the epoch column
        self._appends = 0
        self._warned = False

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "durability": self.durability, "timeout": self.timeout,
                "read_only": self.read_only, "epoch": self.epoch}

    def __setstate__(self, state: dict[str, Any]) -> None:
        SQLiteStorage.__init__(self, state["path"], durability=state["durability"],
                               timeout=state["timeout"], read_only=state.get("read_only", False))
        self.epoch = state.get("epoch")
        # a worker process unpickles a new storage object per task: its tasks share one
        # replay per study (replays are keyed by the study id, so a new study at this
        # path never sees an old one's trials)
        self._replays = _WORKER_REPLAYS.setdefault(self.path, {})

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r}{', read_only=True' if self.read_only else ''})"

    # ------------------------------------------------------------------ connection
    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            return self._connect_read_only()
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if names and not {"meta", "events"} <= names:
                foreign = sorted(names - _OWN_TABLES)
                raise StorageError(
                    f"storage {self.path!r}: holds another program's tables "
                    f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}), not an "
                    f"hpstudy study; use a new file")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={_SYNC[self.durability]}")
            conn.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT_BYTES}")
            conn.executescript(_SCHEMA)
            columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
            if "epoch" not in columns:  # a file of an earlier version
                conn.execute("ALTER TABLE events ADD COLUMN epoch INTEGER")
        except BaseException:
            conn.close()
            raise
        self._has_epoch = True
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        if not os.path.exists(self.path):
            raise StorageError(f"storage {self.path!r}: no such file")
        uri = "file:" + urllib.parse.quote(os.path.abspath(self.path))
        last: Exception | None = None
        for query in ("?mode=ro", "?mode=ro&immutable=1"):  # immutable: read-only media
            conn = sqlite3.connect(uri + query, uri=True, timeout=self.timeout, isolation_level=None)
            try:
                conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
            except sqlite3.OperationalError as exc:  # cannot create the -shm file beside it
                conn.close()
                last = exc
                continue
            return conn
        raise sqlite3.OperationalError(str(last))

    @property
    def _db(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():  # never share a connection across fork
            try:
                conn = self._connect()
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                raise StorageError(f"storage {self.path!r}: cannot open as an hpstudy database ({exc})") from exc
            local.conn, local.pid = conn, os.getpid()
        return conn

    def _epoch_column(self) -> bool:
        if self._has_epoch is None:
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(events)")}
            self._has_epoch = "epoch" in columns
        return self._has_epoch

    def close(self) -> None:
        """Close this thread's connection (it reopens on next use)."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            conn.close()
        local.conn = None

    def _writable(self, what: str) -> None:
        if self.read_only:
            raise StorageError(f"storage {self.path!r}: opened read-only, cannot {what}")

    # ------------------------------------------------------------------ metadata
    def exists(self) -> bool:
        """True when the file holds a study's metadata."""
        if not os.path.exists(self.path):
            return False
        try:
            return bool(self._db.execute("SELECT 1 FROM meta WHERE key='study'").fetchone())
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            return False

    def _stored_meta(self) -> dict[str, Any] | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key='study'").fetchone()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            if "no such table" in str(exc):
                raise StorageError(f"storage {self.path!r}: holds no hpstudy study") from exc
            raise StorageError(f"storage {self.path!r}: {exc}") from exc
        if row is None:
            return None
        try:
            meta = json.loads(row[0])
        except (TypeError, ValueError) as exc:
            raise StorageError(f"storage {self.path!r}: the study's metadata is not readable ({exc})") from None
        if not isinstance(meta, dict):
            raise StorageError(f"storage {self.path!r}: the study's metadata is not readable "
                               f"(a {type(meta).__name__}, not an object)")
        return meta

    def initialize(self, meta: dict[str, Any]) -> dict[str, Any]:
        # insertion order is kept: the space's parameter order decides the suggestions
        text = json.dumps(meta, allow_nan=False)
        if not self.read_only:
            try:
                self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('study', ?)", (text,))
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                raise StorageError(f"storage {self.path!r}: {exc}") from exc
        stored = self._stored_meta()
        if stored is None:
            raise StorageError(f"storage {self.path!r}: holds no hpstudy study")
        return stored

    def load_meta(self) -> dict[str, Any]:
        """The stored metadata; StorageError when the file holds no study."""
        if not os.path.exists(self.path):
            raise StorageError(f"storage {self.path!r}: no such file")
        meta = self._stored_meta()
        if meta is None:
            raise StorageError(f"storage {self.path!r}: holds no hpstudy study")
        return meta

    def update_annotations(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into the stored study's annotations; return them all.

        ConfigError when a value is not JSON-able; StorageError without a study.
        """
        self._writable("update annotations")
        conn = self._db
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                meta = self.load_meta()
                annotations = dict(meta.get("annotations") or {}, **dict(changes))
                meta["annotations"] = annotations
                text = payload_json(meta)
                conn.execute("UPDATE meta SET value=? WHERE key='study'", (text,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot update annotations ({exc})") from exc
        return annotations

    # ------------------------------------------------------------------ the lease
    def acquire_lease(self, *, n_jobs: int = 1, in_process: bool = False
                      ) -> tuple[_lease.Lease, _lease.Lease | None]:
        """Take the study's lease (see ``storage/_lease.py``); set :attr:`epoch` to its epoch.

        Returns the lease and the stale one it replaced (None if there was none).
        StorageError ``study is being run by PID ... on HOST since ...`` while another
        coordinator holds it.
        """
        self._writable("take the lease")
        try:
            lease, previous = _lease.acquire(self._db, n_jobs=n_jobs, in_process=in_process)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot take the lease ({exc})") from exc
        self.epoch = lease.epoch
        return lease, previous

    def renew_lease(self) -> bool:
        """Heartbeat, and checkpoint the WAL; False when the lease was taken over."""
        if self.epoch is None:
            return False
        try:
            ours = _lease.renew(self._db, self.epoch)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot renew the lease ({exc})") from exc
        self.checkpoint()
        return ours

    def release_lease(self) -> None:
        """Give the lease back (if still ours)."""
        if self.epoch is None or self.read_only:
            return
        try:
            _lease.release(self._db, self.epoch)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot release the lease ({exc})") from exc

    def lease(self) -> _lease.Lease | None:
        """The lease recorded in the file (fresh or stale), or None."""
        try:
            return _lease.read_lease(self._db)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            if "no such table" in str(exc):
                return None
            raise StorageError(f"storage {self.path!r}: {exc}") from exc

    # ------------------------------------------------------------------ the log
    def append(self, kind: EventKind, number: int, payload: dict[str, Any]) -> int:
        self._writable("append")
        text = payload_json(payload)
        key = unique_key(kind, number, payload, self.epoch)
        try:
            cur = self._db.execute(
                "INSERT INTO events (kind, number, payload, time, unique_key, epoch) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (kind.value, int(number), text, time.time(),
                 None if key is None else json.dumps(key), self.epoch),
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateEventError(f"duplicate event refused: {kind.value} for trial {number}") from exc
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot append ({exc})") from exc
        if cur.lastrowid is None:  # pragma: no cover (an INSERT always sets it)
            raise StorageError(f"storage {self.path!r}: the append got no row id")
        self._appends += 1
        if self._appends % CHECKPOINT_EVERY == 0:
            self.checkpoint()
        return int(cur.lastrowid)

    def checkpoint(self) -> int:
        """Run a passive WAL checkpoint; return the WAL file's size in bytes (warn past
        :data:`WAL_WARN_BYTES`)."""
        if self.read_only:
            return 0
        try:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError):  # busy: the next one will do
            pass
        try:
            size = os.path.getsize(self.path + "-wal")
        except OSError:
            return 0
        if size > WAL_WARN_BYTES and not self._warned:
            self._warned = True
            warnings.warn(
                f"storage {self.path!r}: the WAL file is {size / 2**20:.0f} MB; a process "
                f"keeping a read transaction open stops SQLite from resetting it", ResourceWarning,
                stacklevel=2)
        return size

    def read(self, after: int = 0) -> Sequence[Event]:
        epoch = ", epoch" if self._epoch_column() else ""
        try:
            rows = self._db.execute(
                f"SELECT id, kind, number, payload, time{epoch} FROM events WHERE id > ? ORDER BY id",
                (int(after),),
            ).fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot read ({exc})") from exc
        out = []
        for r in rows:
            try:
                payload = json.loads(r[3])
                if not isinstance(payload, dict):
                    raise ValueError(f"payload is a {type(payload).__name__}, not an object")
                out.append(Event(id=r[0], kind=EventKind(r[1]), number=int(r[2]), payload=payload,
                                 time=float(r[4]), epoch=None if len(r) < 6 or r[5] is None else int(r[5])))
            except (TypeError, ValueError) as exc:
                raise StorageError(f"storage {self.path!r}: event {r[0]} is not readable ({exc}); "
                                   f"the file is damaged (hpstudy check)") from None
        return out

    def quick_check(self) -> list[str]:
        """SQLite's ``PRAGMA quick_check``: [] when the file is sound, else its complaints."""
        try:
            rows = [r[0] for r in self._db.execute("PRAGMA quick_check").fetchall()]
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            return [str(exc)]
        return [] if rows == ["ok"] else rows
