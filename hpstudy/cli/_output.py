"""What the command prints and writes: escaped text, one-line errors, output files."""

from __future__ import annotations

import os
import re
import sys

from hpstudy.errors import ConfigError

# C0 and C1 control characters (newline excepted), line/paragraph separators and
# bidirectional overrides: a study's names could otherwise drive the terminal.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""``text`` with control characters escaped (``\x1b``), newlines kept.

    Parameters
    ----------
    text : str
        What is about to be printed (names and values come from a study file).

    Returns
    -------
    str

    Examples
    --------
    >>> printable("lr\x1b[2J")
    'lr\\x1b[2J'
    """
    return _CONTROL.sub(_escape_char, text)


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
