"""What the command prints and writes: escaped text, one-line errors, output files."""

from __future__ import annotations

import os
import sys

from hpstudy.errors import ConfigError
from hpstudy.report import printable

__all__ = ["printable"]  # the one escaping rule lives in hpstudy.report (_escape)


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _describe(exc: BaseException) -> str:
    return _one_line(f"{type(exc).__name__}: {exc}")


def _emit(text: str, end: str = "\n") -> None:
    """Print to stdout with control characters escaped; a write error is a ConfigError."""
    try:
        sys.stdout.write(printable(text) + end)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise ConfigError(f"stdout: cannot write ({exc.strerror or exc})") from None


def _check_output(path: str) -> None:
    """Refuse an ``--output`` that cannot be a file we write, before any work."""
    if os.path.isdir(path):
        raise ConfigError(f"--output {path!r}: is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"--output {path!r}: the folder {folder!r} does not exist")


def _write_output(path: str, text: str) -> None:
    """Write ``text`` to ``path``; any failure is a ConfigError, and a file this call
    created is removed again (no half-written export is left behind)."""
    _check_output(path)
    existed = os.path.exists(path)
    try:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        if not existed:
            try:
                os.unlink(path)
            except OSError:
                pass
        raise ConfigError(f"--output {path!r}: cannot write ({exc.strerror or exc})") from None
