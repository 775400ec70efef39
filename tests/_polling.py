"""Waiting for a condition in tests: poll it with a deadline, never a fixed sleep."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str = "a condition", timeout: float = 120.0) -> T:
    """Call ``condition`` every 50 ms until it returns something true; return that.

    Raises AssertionError naming ``what`` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def event_kinds(path: Path) -> list[tuple[str, int]]:
    """(kind, trial) of each event of an SQLite study; [] while its tables are not there yet."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute("SELECT kind, number FROM events ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
