"""Opening a study file for reading only, on read-only media too, never showing an old state.

A study file is in WAL mode: its last committed events may still be in the ``-wal``
file beside it, and SQLite needs the ``-shm`` file (the WAL's index) to read them.
:func:`connect_read_only` tries, in order:

1. ``mode=ro``: SQLite never writes the database; it reads the WAL through the
   ``-shm`` file, which it creates when missing (a writable folder), or reads
   as it is (read-only media holding all three files).
2. When that fails (the folder is read-only and ``-shm`` is missing) and no
   ``-wal`` file with content is there, every committed event is in the
   database file: it is opened ``immutable=1`` (SQLite then takes no lock and
   reads no WAL).
3. When a ``-wal`` file with content is there (a study that was not closed
   cleanly, copied to read-only media without its ``-shm``), ``immutable=1``
   would silently show the state before those events. The database and its WAL
   are copied to a private temporary folder and read there; the copy goes when
   the connection closes. Where the ``-shm`` file exists but cannot be read (a
   study another user may be running) the copy could catch a checkpoint half
   done, so the file is refused with a :class:`~hpstudy.errors.StorageError`
   that says why, instead.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import urllib.parse
import weakref

from hpstudy.errors import StorageError

__all__ = ["ReadOnlyConnection", "connect_read_only"]


def _uri(path: str, query: str) -> str:
    return "file:" + urllib.parse.quote(os.path.abspath(path)) + query


def _open(uri: str, timeout: float) -> sqlite3.Connection:
    """Open and read the schema once (a connection is lazy: errors show on first use)."""
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None,
                           factory=ReadOnlyConnection)
    try:
        conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


def _remove(folder: str, pid: int) -> None:
    if os.getpid() == pid:  # a forked child that exits leaves its parent's copy alone
        shutil.rmtree(folder, ignore_errors=True)


class ReadOnlyConnection(sqlite3.Connection):
    """A connection that removes the private copy it reads (if any) when it is closed
    (or garbage-collected, or at exit)."""

    _cleanup: weakref.finalize | None = None

    def remove_on_close(self, folder: str) -> None:
        self._cleanup = weakref.finalize(self, _remove, folder, os.getpid())

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._cleanup is not None:
                self._cleanup()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _copy_and_open(path: str, timeout: float) -> sqlite3.Connection:
    folder = tempfile.mkdtemp(prefix="hpstudy-read-")
    try:
        copy = os.path.join(folder, os.path.basename(path))
        shutil.copyfile(path, copy)
        shutil.copyfile(path + "-wal", copy + "-wal")
        conn = _open(_uri(copy, "?mode=ro"), timeout)
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, (OSError, sqlite3.Error)):
            raise StorageError(
                f"storage {path!r}: its last events are in {path + '-wal'!r}, which SQLite "
                f"cannot read in a read-only folder, and copying both files to a temporary "
                f"folder failed ({exc}); copy the study's files to a writable folder and read "
                f"them there") from None
        raise
    assert isinstance(conn, ReadOnlyConnection)
    conn.remove_on_close(folder)
    return conn


def connect_read_only(path: str, timeout: float) -> sqlite3.Connection:
    """A connection that reads every committed event of ``path`` and never writes it.

    Raises
    ------
    StorageError
        When the file is missing, or its WAL holds events that cannot be read
        without writing (see the module docstring).
    sqlite3.DatabaseError
        When the file is not an SQLite database.
    """
    if not os.path.exists(path):
        raise StorageError(f"storage {path!r}: no such file")
    try:
        return _open(_uri(path, "?mode=ro"), timeout)
    except sqlite3.OperationalError as exc:  # cannot create the -shm file beside it
        if "locked" in str(exc) or "busy" in str(exc):  # a writer, for longer than timeout
            raise
        first = exc
    if _size(path + "-wal") == 0:  # every committed event is in the database file
        try:
            return _open(_uri(path, "?mode=ro&immutable=1"), timeout)
        except sqlite3.OperationalError:
            raise first from None
    if os.path.exists(path + "-shm"):
        raise StorageError(
            f"storage {path!r}: its last events are in {path + '-wal'!r}, and its index "
            f"{path + '-shm'!r} cannot be read ({first}); a study may be running under another "
            f"user: read it as that user, or after it ends") from None
    return _copy_and_open(path, timeout)
