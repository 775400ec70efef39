"""Argument checks shared by every package: one rule, one message style.

Messages name the argument and the rule, then show what was given::

    n_splits: must be an integer (got 2.5)
    n_splits: must be >= 2 (got 1)

Integers are any :class:`numbers.Integral` (numpy integers included) except
``bool``; real numbers any :class:`numbers.Real` except ``bool``. attrs classes
use them through :func:`int_converter` in their field converters.

Values read from configuration files (a sweep's ``min``, a ``values`` entry) go
through :func:`check_finite_value` and :func:`check_exact_int`, which keep ints
exact and print huge or odd values boundedly (:func:`short`).
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np

from hpstudy.errors import ConfigError

__all__ = ["MAX_INT", "check_choice", "check_exact_int", "check_finite_value", "check_int", "check_real",
           "int_converter", "is_finite_number", "is_number", "plain", "short"]


def check_int(name: str, value: Any, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """``value`` as a Python int within ``[minimum, maximum]``, or ConfigError naming ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> check_int("n", np.int64(3), minimum=1)
    3
    >>> check_int("n", True)
    Traceback (most recent call last):
    ...
    hpstudy.errors.ConfigError: n: must be an integer (got True)
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ConfigError(f"{name}: must be an integer (got {value!r})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}: must be >= {minimum} (got {value})")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}: must be <= {maximum} (got {value})")
    return value


def check_real(name: str, value: Any, minimum: float | None = None) -> float:
    """``value`` as a finite float ``>= minimum``, or ConfigError naming ``name``.

    Examples
    --------
    >>> check_real("timeout", 2)
    2.0
    >>> check_real("timeout", float("nan"))
    Traceback (most recent call last):
    ...
    hpstudy.errors.ConfigError: timeout: must be a finite number (got nan)
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ConfigError(f"{name}: must be a number (got {value!r})")
    try:
        out = float(value)
    except OverflowError:
        raise ConfigError(f"{name}: must be a finite number (got a huge integer)") from None
    if not math.isfinite(out):
        raise ConfigError(f"{name}: must be a finite number (got {value!r})")
    if minimum is not None and out < minimum:
        raise ConfigError(f"{name}: must be >= {minimum} (got {out})")
    return out


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, or ConfigError listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name}: must be one of {', '.join(map(repr, choices))} (got {value!r})")
    return value


def int_converter(name: str, minimum: int | None = None) -> Callable[[Any], int]:
    """An attrs converter applying :func:`check_int` to a field."""

    def convert(value: Any) -> int:
        return check_int(name, value, minimum)

    return convert


def is_finite_number(value: Any) -> bool:
    """True for a real, finite number (numpy scalars included; bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float makes no metric
        return False


# ------------------------------------------------------------------ config values

#: Integers beyond this magnitude are refused: floats represent them exactly up to here.
MAX_INT = 2**53

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 3, 6, 6, 4
_REPR.maxstring, _REPR.maxlong, _REPR.maxother = 50, 40, 40


def short(value: Any) -> str:
    """A bounded repr (depth, items and length limited), safe on huge values."""
    try:
        return _REPR.repr(value)
    except Exception:  # noqa: BLE001 (a broken __repr__ must not hide the real error)
        return f"<{type(value).__name__}>"


def is_number(value: Any) -> bool:
    """True for int and float (numpy ones included), False for bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def plain(value: Any) -> Any:
    """Turn numpy scalars into the matching Python scalar; leave the rest alone."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_finite_value(value: Any, name: str) -> int | float:
    """A config value as a finite Python int or float (ints kept exact), or ConfigError."""
    value = plain(value)
    if not is_number(value):
        raise ConfigError(f"{name}: must be a number (got {short(value)})")
    try:
        as_float = float(value)
    except OverflowError:
        digits = len(str(value))
        raise ConfigError(f"{name}: must be a finite number "
                          f"(got a {digits}-digit integer)") from None
    if not math.isfinite(as_float):
        raise ConfigError(f"{name}: must be a finite number (got {value!r})")
    return value if isinstance(value, int) else as_float


def check_exact_int(value: Any, name: str) -> int:
    """A config value as a Python int exact in a float (within +-2**53), or ConfigError."""
    value = plain(value)
    if not is_number(value) or not isinstance(value, int):
        raise ConfigError(f"{name}: must be an integer (got {short(value)})")
    if abs(value) > MAX_INT:
        raise ConfigError(f"{name}: must be between -2**53 and 2**53 (got {short(value)})")
    return value
