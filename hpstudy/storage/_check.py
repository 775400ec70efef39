"""Reading a study file without writing to it: :func:`lease_info` and :func:`check`."""

from __future__ import annotations

import os

from hpstudy.errors import StorageError
from hpstudy.storage._lease import Lease
from hpstudy.storage._replay import TrialsBuilder
from hpstudy.storage.sqlite import SQLiteStorage

__all__ = ["check", "lease_info"]


def lease_info(path: str | os.PathLike) -> Lease | None:
    """The lease recorded in a study file, read-only: who runs the study, or ran it last.

    Parameters
    ----------
    path : str or os.PathLike
        The study's SQLite file.

    Returns
    -------
    Lease or None
        None when no coordinator holds it (none ran, or the last one ended
        cleanly). ``lease.fresh()`` tells whether its holder still lives (a stale
        lease: the coordinator was killed, and its trials are not running);
        ``lease.describe()`` says ``study is being run by PID ... on HOST since ...``.

    Raises
    ------
    StorageError
        When the file cannot be read.
    """
    storage = SQLiteStorage(path, read_only=True)
    try:
        return storage.lease()
    finally:
        storage.close()


def check(path: str | os.PathLike) -> list[str]:
    """Check a study file, read-only: SQLite's ``PRAGMA quick_check``, the metadata, and
    a replay of every event.

    Parameters
    ----------
    path : str or os.PathLike
        The study's SQLite file.

    Returns
    -------
    list of str
        The problems found, one line each; empty when the file is sound.
    """
    storage = SQLiteStorage(path, read_only=True)
    problems: list[str] = []
    try:
        try:
            problems.extend(f"sqlite: {line}" for line in storage.quick_check())
            meta = storage.load_meta()
        except StorageError as exc:
            return [*problems, str(exc)]
        builder = TrialsBuilder(metric=str(meta.get("metric", "value")))
        try:
            builder.apply(storage.read())
            storage.lease()
        except StorageError as exc:
            problems.append(str(exc))
    finally:
        storage.close()
    return problems
