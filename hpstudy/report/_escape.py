"""Text for a terminal: control characters in a study's names and values escaped.

A study file is data from anyone: a parameter, a categorical value, a metric or an
error message could hold ``ESC [ 2 J`` (clear the screen), a carriage return (write
over the line), a bell or a bidirectional override (show text in another order).
Every text command (``status``, ``analyze``, ``compare``, ``confirm``, the CLI's
errors) prints through :func:`printable`; JSON output through :func:`json_printable`,
which keeps the JSON valid and its values exact.
"""

from __future__ import annotations

import re

__all__ = ["json_printable", "printable"]

# C0 and C1 control characters (newline excepted), line/paragraph separators and
# bidirectional overrides and isolates: a study's names could otherwise drive the terminal.
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
    >>> printable("a\u202eb\r\n")
    'a\\u202eb\\x0d\n'
    """
    return _CONTROL.sub(_escape_char, text)


def json_printable(text: str) -> str:
    r"""JSON text with every control character written as a ``\uXXXX`` escape.

    The result parses to the same values as ``text`` (only the characters that
    :func:`printable` escapes are touched, and JSON allows them escaped anywhere
    in a string); newlines between tokens are kept.

    Parameters
    ----------
    text : str
        A JSON document (``json.dumps(..., ensure_ascii=False)``).

    Returns
    -------
    str

    Examples
    --------
    >>> import json
    >>> doc = json.dumps({"name": "x\u202e\x9b"}, ensure_ascii=False)
    >>> json_printable(doc)
    '{"name": "x\\u202e\\u009b"}'
    >>> json.loads(json_printable(doc)) == json.loads(doc)
    True
    """
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
