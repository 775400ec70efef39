"""Durable, append-only storage of a study's events.

``open_storage(None)`` gives an in-memory log; a path gives an SQLite file (the
default for real studies); any object following :class:`Storage` is used as is.
"""

from __future__ import annotations

import os
from typing import Any

from hpstudy.errors import ConfigError
from hpstudy.storage._check import check, lease_info
from hpstudy.storage._gc import paused_gc
from hpstudy.storage._lease import Lease
from hpstudy.storage._replay import Replay, TrialsBuilder, folds_settled, replay_of, summarize_folds
from hpstudy.storage._summary import SUMMARY_SKIPS, read_summary, report_counts
from hpstudy.storage.base import Storage
from hpstudy.storage.events import Event, EventKind
from hpstudy.storage.memory import MemoryStorage
from hpstudy.storage.sqlite import SQLiteStorage

__all__ = ["SUMMARY_SKIPS", "Event", "EventKind", "Lease", "MemoryStorage", "Replay", "SQLiteStorage", "Storage",
           "TrialsBuilder", "check", "folds_settled", "lease_info", "open_storage", "paused_gc",
           "read_summary", "replay_of", "report_counts", "summarize_folds"]


def open_storage(spec: Any) -> Storage:
    """Turn ``None``, a path or a storage object into a storage object.

    Parameters
    ----------
    spec : None, str, os.PathLike or Storage
        None for memory, a path for SQLite (``":memory:"`` also means memory).

    Returns
    -------
    Storage
        The storage to use.

    Raises
    ------
    ConfigError
        When ``spec`` is none of these.
    """
    if spec is None or spec == ":memory:":
        return MemoryStorage()
    if isinstance(spec, (str, os.PathLike)):
        if not os.fspath(spec):
            raise ConfigError("storage: must be a non-empty path (got '')")
        return SQLiteStorage(spec)
    if isinstance(spec, Storage):
        return spec
    raise ConfigError(
        f"storage: must be None, a file path or a Storage object (got {type(spec).__name__})"
    )
