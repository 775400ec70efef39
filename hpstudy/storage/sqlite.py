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
they never write, not even the WAL switch, and work on read-only media, never
showing a state older than the last committed event (``storage/_readonly.py``).
A writer refuses a database that holds another program's tables. A row that cannot be
decoded stops the read with ``StorageError: ... event 123 is not readable``: a
study is never half-read. Writers checkpoint the WAL every
:data:`CHECKPOINT_EVERY` appends, cap its size after a checkpoint, and warn once
when it passes :data:`WAL_WARN_BYTES` (a reader holding a transaction open keeps
it from being reset).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
import warnings
from collections.abc import Collection, Sequence
from typing import Any

from hpstudy.errors import ConfigError, DuplicateEventError, StorageError
from hpstudy.storage import _lease
from hpstudy.storage._gc import paused_gc
from hpstudy.storage._readonly import connect_read_only
from hpstudy.storage.events import Event, EventKind, events_from_rows, payload_json, unique_key

__all__ = ["CHECKPOINT_EVERY", "WAL_WARN_BYTES", "SQLiteStorage"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {table} (
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
_NAMESPACE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_RESERVED = {"events", "meta", "study", "lease", "epoch", "sqlite"}
_SYNC = {"normal": "NORMAL", "full": "FULL"}
CHECKPOINT_EVERY = 1000
"""A writer runs a passive WAL checkpoint every this many appends."""
WAL_WARN_BYTES = 256 * 2**20
"""Warn (once per storage object) when the WAL file passes this size."""
_WAL_LIMIT_BYTES = 64 * 2**20  # SQLite truncates the WAL to this size after a checkpoint
# the first event of some kinds whose payload is not a JSON object (valid JSON that
# starts with "{", after the blanks JSON allows, is one); see SQLiteStorage.read
_FIRST_NOT_OBJECT = (
    "SELECT min(id) FROM {table} WHERE id > ? AND kind IN ({kinds}) AND NOT coalesce("
    "typeof(payload) = 'text' AND json_valid(payload) AND "
    "substr(ltrim(payload, ' ' || char(9, 10, 13)), 1, 1) = '{{', 0)")
# (path, namespace) -> the replays shared by the storage objects a worker process unpickles
# (see __setstate__)
_WORKER_REPLAYS: dict[tuple[str, str | None], dict] = {}


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
        Open the file read-only (``mode=ro``; on read-only media, as immutable, or
        from a private copy when its WAL holds events): reading never writes to
        it, and appending raises StorageError.
    namespace : str, optional
        Store a second study in the same file, beside the main one (the confirm
        phase: ``namespace="confirm"``): its log is the table ``NAMESPACE_events``,
        its metadata the ``meta`` row ``NAMESPACE``, its lease and epoch the rows
        ``NAMESPACE.lease`` and ``NAMESPACE.epoch``. It gets everything the main
        study gets: durable appends, duplicates refused, epochs, its own lease
        (one coordinator per namespace), read-only reading. Lower-case letters,
        digits and ``_``, starting with a letter.

    Attributes
    ----------
    epoch : int or None
        The lease epoch written with every event (set by the coordinator that holds
        the lease, and sent with the storage to its workers).
    """

    shareable = True
    heartbeat_s = _lease.HEARTBEAT_S  # seconds between a coordinator's heartbeats

    def __init__(self, path: str | os.PathLike, *, durability: str = "normal",
                 timeout: float = 60.0, read_only: bool = False,
                 namespace: str | None = None) -> None:
        if durability not in _SYNC:
            raise ConfigError(f"durability: must be one of {sorted(_SYNC)} (got {durability!r})")
        if namespace is not None and (not isinstance(namespace, str) or namespace in _RESERVED
                                      or not _NAMESPACE.fullmatch(namespace)):
            raise ConfigError(f"namespace: must be lower-case letters, digits and '_', starting "
                              f"with a letter (at most 32), and none of {sorted(_RESERVED)} "
                              f"(got {namespace!r})")
        self.namespace = namespace
        self._table = "events" if namespace is None else f"{namespace}_events"
        self._key = "study" if namespace is None else namespace  # its meta row
        self._prefix = "" if namespace is None else f"{namespace}."  # of its lease and epoch rows
        self._what = "hpstudy study" if namespace is None else f"{namespace} study"
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
                "read_only": self.read_only, "epoch": self.epoch, "namespace": self.namespace}

    def __setstate__(self, state: dict[str, Any]) -> None:
        SQLiteStorage.__init__(self, state["path"], durability=state["durability"],
                               timeout=state["timeout"], read_only=state.get("read_only", False),
                               namespace=state.get("namespace"))
        self.epoch = state.get("epoch")
        # a worker process unpickles a new storage object per task: its tasks share one
        # replay per study (replays are keyed by the study id, so a new study at this
        # path never sees an old one's trials)
        self._replays = _WORKER_REPLAYS.setdefault((self.path, self.namespace), {})

    def __repr__(self) -> str:
        return (f"SQLiteStorage({self.path!r}{', read_only=True' if self.read_only else ''}"
                f"{'' if self.namespace is None else f', namespace={self.namespace!r}'})")

    # ------------------------------------------------------------------ connection
    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            return connect_read_only(self.path, self.timeout)
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if names and not ("meta" in names and ("events" in names or self._table in names)):
                foreign = sorted(names - _OWN_TABLES - {self._table})
                raise StorageError(
                    f"storage {self.path!r}: holds another program's tables "
                    f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}), not an "
                    f"hpstudy study; use a new file")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={_SYNC[self.durability]}")
            conn.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT_BYTES}")
            conn.executescript(_SCHEMA.format(table=self._table))
            columns = {r[1] for r in conn.execute(f"PRAGMA table_info({self._table})")}
            if "epoch" not in columns:  # a file of an earlier version
                conn.execute(f"ALTER TABLE {self._table} ADD COLUMN epoch INTEGER")
        except BaseException:
            conn.close()
            raise
        self._has_epoch = True
        return conn

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
            columns = {r[1] for r in self._db.execute(f"PRAGMA table_info({self._table})")}
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
            return bool(self._db.execute("SELECT 1 FROM meta WHERE key=?", (self._key,)).fetchone())
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            return False

    def _stored_meta(self) -> dict[str, Any] | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (self._key,)).fetchone()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            if "no such table" in str(exc):
                raise StorageError(f"storage {self.path!r}: holds no {self._what}") from exc
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
                self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                                 (self._key, text))
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                raise StorageError(f"storage {self.path!r}: {exc}") from exc
        stored = self._stored_meta()
        if stored is None:
            raise StorageError(f"storage {self.path!r}: holds no {self._what}")
        return stored

    def load_meta(self) -> dict[str, Any]:
        """The stored metadata; StorageError when the file holds no study."""
        if not os.path.exists(self.path):
            raise StorageError(f"storage {self.path!r}: no such file")
        meta = self._stored_meta()
        if meta is None:
            raise StorageError(f"storage {self.path!r}: holds no {self._what}")
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
                conn.execute("UPDATE meta SET value=? WHERE key=?", (text, self._key))
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
            lease, previous = _lease.acquire(self._db, n_jobs=n_jobs, in_process=in_process,
                                             prefix=self._prefix)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot take the lease ({exc})") from exc
        self.epoch = lease.epoch
        return lease, previous

    def renew_lease(self) -> bool:
        """Heartbeat, and checkpoint the WAL; False when the lease was taken over."""
        if self.epoch is None:
            return False
        try:
            ours = _lease.renew(self._db, self.epoch, self._prefix)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot renew the lease ({exc})") from exc
        self.checkpoint()
        return ours

    def release_lease(self) -> None:
        """Give the lease back (if still ours)."""
        if self.epoch is None or self.read_only:
            return
        try:
            _lease.release(self._db, self.epoch, self._prefix)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot release the lease ({exc})") from exc

    def lease(self) -> _lease.Lease | None:
        """The lease recorded in the file (fresh or stale), or None."""
        try:
            return _lease.read_lease(self._db, self._prefix)
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
                f"INSERT INTO {self._table} (kind, number, payload, time, unique_key, epoch) "
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

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Every row of a query; an SQLite error is a StorageError."""
        try:
            return self._db.execute(sql, params).fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise StorageError(f"storage {self.path!r}: cannot read ({exc})") from exc

    def read(self, after: int = 0, *, skip: Collection[EventKind] = ()) -> Sequence[Event]:
        """The events whose id is greater than ``after``, in order.

        ``skip`` leaves out events of those kinds (a summary such as ``hpstudy
        status`` needs no reports: two events in five of a pruning study). Their
        rows are still checked, in SQL, to hold a JSON object: a damaged row is
        reported as by a full read (its fields are checked only by a full read).

        Raises
        ------
        StorageError
            ``event 123 is not readable``: the first damaged row.
        """
        epoch = "epoch" if self._epoch_column() else "NULL"
        kinds = sorted(EventKind(k).value for k in skip)
        marks = ", ".join("?" * len(kinds))
        if kinds:
            try:
                damaged = self._rows(_FIRST_NOT_OBJECT.format(table=self._table, kinds=marks),
                                     (int(after), *kinds))[0][0]
            except StorageError as exc:  # an SQLite without JSON functions: read them all
                if "no such function" not in str(exc):
                    raise
                return [e for e in self.read(after) if e.kind.value not in kinds]
            if damaged is not None:
                raise StorageError(f"storage {self.path!r}: event {damaged} is not readable (its "
                                   f"payload is not a JSON object); the file is damaged "
                                   f"(hpstudy check)")
        left_out = f" AND kind NOT IN ({marks})" if kinds else ""
        with paused_gc():  # a large read makes many objects and no cycles
            rows = self._rows(f"SELECT id, kind, number, payload, time, {epoch} FROM {self._table} "
                              f"WHERE id > ?{left_out} ORDER BY id", (int(after), *kinds))
            return events_from_rows(rows, f"storage {self.path!r}")

    def report_ids(self) -> list[tuple[int, int]]:
        """``(trial number, event id)`` of every ``report`` event, in order (see
        :func:`~hpstudy.storage.report_counts`)."""
        return self._rows(f"SELECT number, id FROM {self._table} WHERE kind = ? ORDER BY id",
                          (EventKind.REPORT.value,))

    def last_event_time(self) -> float | None:
        """The latest time of any event (None when there is none)."""
        latest = self._rows(f"SELECT max(time) FROM {self._table}")[0][0]
        try:
            return None if latest is None else float(latest)
        except (TypeError, ValueError):
            raise StorageError(f"storage {self.path!r}: an event's time is not a number; the "
                               f"file is damaged (hpstudy check)") from None

    def quick_check(self) -> list[str]:
        """SQLite's ``PRAGMA quick_check``: [] when the file is sound, else its complaints."""
        try:
            rows = [r[0] for r in self._db.execute("PRAGMA quick_check").fetchall()]
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            return [str(exc)]
        return [] if rows == ["ok"] else rows
