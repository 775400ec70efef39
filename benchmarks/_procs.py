"""Processes seen through Linux's /proc: the children of a process, and whether one lives.

Shared by the soak benchmark (``bench_soak``) and the tests that kill coordinators
and workers (``tests/test_hardening_runtime.py``).
"""

from __future__ import annotations

import os

__all__ = ["alive", "children"]


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()
    except OSError:
        return None


def children(pid: int, *, zombies: bool = False) -> list[int]:
    """The process ids whose parent is ``pid`` (zombies, dead but not waited for, only
    with ``zombies=True``)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(entry)
            if fields and int(fields[1]) == pid and (zombies or fields[0] != "Z"):
                out.append(int(entry))
    return out


def alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] != "Z"
