"""Opening a study file from the CLI: it must exist, and a file that does not read as a
study is a :class:`~hpstudy.errors.StorageError` (rc 2, one line), never a traceback."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Any

from hpstudy.cli._output import _describe
from hpstudy.errors import HpstudyError, StorageError


def _require_file(path: str) -> None:
    if not os.path.isfile(path):
        raise StorageError(f"storage {path!r}: no such file")


def _open(path: str, *, read_only: bool = True):
    from hpstudy.storage import SQLiteStorage

    _require_file(path)
    return SQLiteStorage(path, read_only=read_only)


def _reading(path: str, read: Callable[[], Any]) -> Any:
    """``read()``, with a study file that does not read as a study reported as a StorageError."""
    try:
        return read()
    except HpstudyError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, LookupError, sqlite3.Error) as exc:
        raise StorageError(f"storage {path!r}: not a readable hpstudy study "
                           f"({_describe(exc)})") from None
