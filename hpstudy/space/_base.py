"""Shared machinery of the search-space dimensions: the base class and checks.

Private: users import the dimensions from :mod:`hpstudy.space`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from hpstudy._validation import (
    MAX_INT,
    check_exact_int,
    check_finite_value,
    is_number,
    plain,
    short,
)
from hpstudy._validation import check_int as shared_check_int
from hpstudy.errors import ConfigError

__all__ = ["EPS", "MAX_GRID", "MAX_INT", "MAX_VALUE_DEPTH", "Dimension", "check_exact_int",
           "check_finite_value", "check_storable", "is_number", "plain", "short", "value_key"]

#: Unit-cube values are clipped into ``[EPS, 1 - EPS]`` before an unbounded ppf.
EPS = 1e-12
#: The most values a grid may enumerate (a dimension's, or a whole space's).
MAX_GRID = 1_000_000


def check_positive(value: Any, name: str, *, strict: bool = True) -> int | float:
    """A finite number > 0 (or >= 0 when not strict)."""
    value = check_finite_value(value, name)
    if value < 0 or (strict and value == 0):
        raise ConfigError(f"{name}: must be {'>' if strict else '>='} 0 (got {value!r})")
    return value


def check_q(q: Any) -> int | float | None:
    """Validate a quantisation step: None or a finite number > 0."""
    if q is None:
        return None
    return check_positive(q, "q")


def check_bool(value: Any, name: str) -> bool:
    value = plain(value)
    if not isinstance(value, bool):
        raise ConfigError(f"{name}: must be True or False (got {short(value)})")
    return value


def check_n(n: Any) -> int:
    return shared_check_int("n", n, 0)


def check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng: must be a numpy.random.Generator (got {type(rng).__name__})")
    return rng


def unit_array(u: Any, name: str = "u") -> np.ndarray:
    """A 1-D float array of values in [0, 1] (tiny overshoots are clipped)."""
    try:
        arr = np.asarray(u, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{name}: must be an array of numbers in [0, 1]")  # noqa: B904
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 0 else arr
        if arr.ndim != 1:
            raise ConfigError(f"{name}: must be one-dimensional (got shape {arr.shape})")
    if not np.all(np.isfinite(arr)) or np.any(arr < -1e-9) or np.any(arr > 1 + 1e-9):
        raise ConfigError(f"{name}: every value must be a finite number in [0, 1]")
    return np.clip(arr, 0.0, 1.0)


def quantize(x: np.ndarray, q: int | float) -> list:
    """W&B's quantisation ``round(x / q) * q``: ints when q is an int, else floats.

    Floats are cleaned to 15 significant digits so ``0.1 * 3`` reads ``0.3``.
    """
    k = np.round(np.asarray(x, dtype=float) / q)
    if isinstance(q, int):
        return [int(v) * q for v in k]
    return [clean_float(float(v) * q) for v in k]


def clean_float(v: float) -> float:
    """Round a float to 15 significant digits (removes ``0.30000000000000004`` noise)."""
    if v == 0 or not math.isfinite(v):
        return float(v)
    return float(f"{v:.15g}")


def is_multiple(v: float, q: float) -> bool:
    """True when ``v`` is (within rounding) an integer multiple of ``q``."""
    k = round(v / q)
    return abs(v - k * q) <= 1e-9 * max(abs(q), abs(v))


def same_value(a: Any, b: Any) -> bool:
    """Equality that keeps bools apart from numbers (``True`` is not ``1`` here)."""
    if isinstance(a, (bool, np.bool_)) != isinstance(b, (bool, np.bool_)):
        return False
    if is_number(a) and is_number(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 (an exotic __eq__ is a mismatch, not a crash)
        return False


#: The deepest nesting of lists and mappings in one value.
MAX_VALUE_DEPTH = 32

_STORABLE_HINT = ("must be a JSON value (null, true/false, a finite number, a string, or a list "
                  "or mapping of these) so the study file can store it")


def check_storable(value: Any, name: str) -> None:
    """Refuse a value the study file cannot store and read back as the same value.

    Allowed: None, bool, int, finite float, str, and lists and string-keyed
    mappings of these (at most :data:`MAX_VALUE_DEPTH` levels). A YAML date or
    ``!!binary`` value, infinity, a tuple or an object is refused.

    Raises
    ------
    ConfigError
        Naming ``name`` and the rule.
    """
    stack: list[tuple[Any, str, int]] = [(value, name, 0)]
    while stack:
        v, where, depth = stack.pop()
        v = plain(v)
        if v is None or isinstance(v, (bool, str)) or type(v) is int:
            continue
        if type(v) is float:
            if not math.isfinite(v):
                raise ConfigError(f"{where}: must be a finite number (got {v!r}): the study "
                                  f"file stores JSON, which has no {v!r}")
            continue
        if depth >= MAX_VALUE_DEPTH and isinstance(v, (list, dict)):
            raise ConfigError(f"{where}: nested deeper than {MAX_VALUE_DEPTH} levels")
        if type(v) is list:
            stack.extend((x, f"{where}[{i}]", depth + 1) for i, x in enumerate(v))
            continue
        if type(v) is dict:
            for k, x in v.items():
                if not isinstance(k, str):
                    raise ConfigError(f"{where}: mapping keys must be strings (got {short(k)})")
                stack.append((x, f"{where}.{k}", depth + 1))
            continue
        hint = {"date": "; quote it in a YAML file to keep it a string",
                "datetime": "; quote it in a YAML file to keep it a string",
                "bytes": "; binary data (YAML !!binary) cannot be stored",
                "tuple": "; use a list"}.get(type(v).__name__, "")
        raise ConfigError(f"{where}: {_STORABLE_HINT} (got {type(v).__name__} {short(v)}){hint}")


class _Container:
    """Tags a list or mapping inside a :func:`value_key` (no user value is one)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return type(other) is _Container and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(("_Container", self.kind))

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_Container, (self.kind,))


_LIST, _DICT = _Container("list"), _Container("dict")


def _inner_key(v: Any, depth: int) -> Any:
    """Python equality made hashable for the items of a container (``True == 1`` there)."""
    if depth > MAX_VALUE_DEPTH:
        raise TypeError("too deep")
    if type(v) is list:
        return (_LIST, tuple(_inner_key(x, depth + 1) for x in v))
    if type(v) is dict:
        return (_DICT, frozenset((k, _inner_key(x, depth + 1)) for k, x in v.items()))
    if isinstance(v, (tuple, set, frozenset, _Container)):
        raise TypeError("no key")  # could collide with a converted container
    hash(v)
    return v


def value_key(value: Any) -> Any:
    """A hashable key with ``value_key(a) == value_key(b)`` exactly when ``same_value(a, b)``.

    None when the value has no such key (an unhashable or exotic object): then
    compare with :func:`same_value` one by one.
    """
    v = plain(value)
    if isinstance(v, bool):
        return ("bool", v)
    if is_number(v):
        return ("number", v)
    if v is None or type(v) is str:
        return ("scalar", v)
    if type(v) in (list, dict):
        try:
            return ("container", _inner_key(v, 0))
        except TypeError:
            return None
    return None


class Dimension:
    """Base class of every dimension of a :class:`~hpstudy.space.SearchSpace`.

    Subclasses implement ``check``, ``to_unit``, ``from_unit``, ``grid``,
    ``to_dict`` and the ``is_continuous`` property; ``sample`` and ``contains``
    are derived here.
    """

    __slots__ = ()
    kind: ClassVar[str] = "real"

    def check(self, value: Any, name: str = "value") -> Any:  # pragma: no cover - abstract
        """Return ``value`` in canonical form, or raise ConfigError naming ``name``."""
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a possible value of this dimension.

        Parameters
        ----------
        value : object
            The value to test.

        Returns
        -------
        bool
        """
        try:
            self.check(value)
        except ConfigError:
            return False
        return True

    def sample(self, rng: np.random.Generator, n: int) -> list:
        """Draw ``n`` values (plain Python scalars) with ``rng``.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of randomness.
        n : int
            How many values (>= 0).

        Returns
        -------
        list
        """
        n = check_n(n)
        rng = check_rng(rng)
        return self.from_unit(rng.random(n))

    def to_unit(self, values: Sequence[Any]) -> np.ndarray:  # pragma: no cover - abstract
        """Map values to [0, 1] with the distribution's CDF."""
        raise NotImplementedError

    def from_unit(self, u: Any) -> list:  # pragma: no cover - abstract
        """Map unit-cube coordinates back to values (inverse CDF, then quantisation)."""
        raise NotImplementedError

    def grid(self) -> list:  # pragma: no cover - abstract
        """Every value, for grid search."""
        raise NotImplementedError

    @property
    def is_continuous(self) -> bool:  # pragma: no cover - abstract
        """True when the dimension cannot be enumerated by :meth:`grid`."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        """The W&B parameter mapping of this dimension."""
        raise NotImplementedError

    def _checked(self, values: Sequence[Any]) -> list:
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise ConfigError(f"values: must be a sequence (got {type(values).__name__})")
        return [self.check(v, f"values[{i}]") for i, v in enumerate(values)]

    def _continuous_grid_error(self, why: str) -> ConfigError:
        return ConfigError(f"grid: {why}; grid search needs categorical, constant, integer "
                           f"or q-quantised uniform dimensions (got {self!r})")
