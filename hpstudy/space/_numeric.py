"""The numeric dimensions: Real and Integer.

Private: users import them from :mod:`hpstudy.space`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs
import numpy as np

from hpstudy.errors import ConfigError
from hpstudy.space._base import (
    MAX_GRID,
    Dimension,
    check_bool,
    check_exact_int,
    check_finite_value,
    check_q,
    clean_float,
    is_multiple,
    plain,
    quantize,
    unit_array,
)

__all__ = ["Integer", "Real"]

@attrs.frozen
class Real(Dimension):
    """A real number, uniform or log-uniform on ``[low, high]``, optionally quantised.

    ``X = U(low, high)``, or ``X = exp(U(log(low), log(high)))`` when ``log=True``;
    with ``q`` set, ``X = round(X / q) * q`` (W&B's ``q_uniform`` and
    ``q_log_uniform_values``), an int when ``q`` is an int.

    Parameters
    ----------
    low, high : float
        The bounds, finite, ``low < high`` (``low > 0`` when ``log``).
    log : bool, default False
        Log-uniform instead of uniform.
    q : float or None, default None
        Quantisation step (> 0).

    Examples
    --------
    >>> import numpy as np
    >>> lr = Real(1e-5, 1e-3, log=True)
    >>> all(1e-5 <= v <= 1e-3 for v in lr.sample(np.random.default_rng(0), 5))
    True
    >>> Real(0, 1, q=0.25).grid()
    [0.0, 0.25, 0.5, 0.75]
    """

    low: float
    high: float
    log: bool = attrs.field(default=False, kw_only=True)
    q: float | None = attrs.field(default=None, kw_only=True)
    kind: ClassVar[str] = "real"

    def __attrs_post_init__(self) -> None:
        low, high = check_finite_value(self.low, "low"), check_finite_value(self.high, "high")
        log, q = check_bool(self.log, "log"), check_q(self.q)
        if not low < high:
            raise ConfigError(f"low: must be < high (got low={low!r}, high={high!r})")
        if log and low <= 0:
            raise ConfigError(f"low: must be > 0 when log=True (got {low!r})")
        if not log and not math.isfinite(float(high) - float(low)):
            raise ConfigError(f"high: high - low must be finite (got {low!r}, {high!r})")
        if q is not None and not (abs(float(high)) / q < 2**52 and abs(float(low)) / q < 2**52):
            raise ConfigError(f"q: too small for the bounds (got q={q!r}, "
                              f"bounds {low!r}, {high!r})")
        for field, value in (("low", low), ("high", high), ("log", log), ("q", q)):
            object.__setattr__(self, field, value)

    def _ends(self) -> tuple[float, float]:
        if self.log:
            return math.log(self.low), math.log(self.high)
        return float(self.low), float(self.high)

    def _support(self) -> tuple[float, float]:
        if self.q is None:
            return float(self.low), float(self.high)
        lo, hi = quantize(np.array([self.low, self.high]), self.q)
        return min(float(lo), float(self.low)), max(float(hi), float(self.high))

    def check(self, value: Any, name: str = "value") -> int | float:
        """Return ``value`` in canonical form (float, or int for an int ``q``).

        Parameters
        ----------
        value : float
            The value.
        name : str
            The name in the error message.

        Returns
        -------
        int or float

        Raises
        ------
        ConfigError
            If the value is not a number of the support.
        """
        v = float(check_finite_value(value, name))
        lo, hi = self._support()
        tol = 1e-9 * max(abs(lo), abs(hi), 1e-300)
        if not lo - tol <= v <= hi + tol:
            raise ConfigError(f"{name}: must be in [{lo!r}, {hi!r}] (got {value!r})")
        if self.q is not None:
            on_grid = not self.log and is_multiple(v - float(self.low), self.q)
            if not (is_multiple(v, self.q) or on_grid):
                raise ConfigError(f"{name}: must be a multiple of q={self.q!r} (got {value!r})")
            if isinstance(self.q, int) and float(v).is_integer():
                return int(v)
        return clean_float(v) if self.q is not None else v

    def to_unit(self, values: Sequence[Any]) -> np.ndarray:
        """CDF of each value: linear in ``x`` (or in ``log x``), in [0, 1].

        Parameters
        ----------
        values : sequence of float
            Values of the support.

        Returns
        -------
        numpy.ndarray
        """
        x = np.array(self._checked(values), dtype=float)
        a, b = self._ends()
        x = np.log(np.maximum(x, 1e-300)) if self.log else x
        return np.clip((x - a) / (b - a), 0.0, 1.0)

    def from_unit(self, u: Any) -> list:
        """Inverse CDF, then quantisation when ``q`` is set.

        Parameters
        ----------
        u : array_like
            Values in [0, 1].

        Returns
        -------
        list of float (or int for an int ``q``)
        """
        u = unit_array(u)
        a, b = self._ends()
        x = a + u * (b - a)
        if self.log:
            x = np.exp(x)
        x = np.clip(x, self.low, self.high)
        if self.q is not None:
            return quantize(x, self.q)
        return [float(v) for v in x]

    def grid(self) -> list:
        """W&B's ``q_uniform`` grid: ``numpy.arange(low, high, q)`` (``high`` excluded).

        Returns
        -------
        list

        Raises
        ------
        ConfigError
            Without ``q``, or with ``log=True`` (W&B's grid refuses ``q_log_uniform``).
        """
        if self.q is None:
            raise self._continuous_grid_error("a Real without q is continuous")
        if self.log:
            raise self._continuous_grid_error("a log Real cannot be enumerated (as in W&B)")
        count = math.ceil((float(self.high) - float(self.low)) / self.q)
        if count > MAX_GRID:
            raise ConfigError(f"grid: {count} values exceeds the limit of {MAX_GRID} ({self!r})")
        lo, hi, q = self.low, self.high, self.q
        if isinstance(lo, int) and isinstance(hi, int) and isinstance(q, int):
            return list(range(lo, hi, q))
        return [clean_float(float(v)) for v in np.arange(self.low, self.high, self.q)]

    @property
    def is_continuous(self) -> bool:
        """True unless ``q`` is set and ``log`` is False."""
        return self.q is None or self.log

    def to_dict(self) -> dict[str, Any]:
        """The W&B mapping: ``uniform``, ``q_uniform``, ``log_uniform_values`` or
        ``q_log_uniform_values``.

        Returns
        -------
        dict
        """
        name = "log_uniform_values" if self.log else "uniform"
        name = name if self.q is None else "q_" + name
        out: dict[str, Any] = {"distribution": name, "min": self.low, "max": self.high}
        if self.q is not None:
            out["q"] = self.q
        return out


@attrs.frozen
class Integer(Dimension):
    """An integer, uniform over ``low..high`` inclusive (W&B's ``int_uniform``).

    With ``log=True``: log-uniform on ``[low - 0.5, high + 0.5]`` then rounded,
    so every integer gets the mass of its unit-width bin in log space.

    Parameters
    ----------
    low, high : int
        Inclusive bounds, ``low < high``, within +-2**53 (``low >= 1`` when ``log``).
    log : bool, default False
        Log-uniform instead of uniform.

    Examples
    --------
    >>> Integer(1, 4).grid()
    [1, 2, 3, 4]
    """

    low: int
    high: int
    log: bool = attrs.field(default=False, kw_only=True)
    kind: ClassVar[str] = "integer"

    def __attrs_post_init__(self) -> None:
        low, high = check_exact_int(self.low, "low"), check_exact_int(self.high, "high")
        log = check_bool(self.log, "log")
        if not low < high:
            raise ConfigError(f"low: must be < high (got low={low!r}, high={high!r})")
        if log and low < 1:
            raise ConfigError(f"low: must be >= 1 when log=True (got {low!r})")
        for field, value in (("low", low), ("high", high), ("log", log)):
            object.__setattr__(self, field, value)

    def _ends(self) -> tuple[float, float]:
        a, b = self.low - 0.5, self.high + 0.5
        return (math.log(a), math.log(b)) if self.log else (a, b)

    def check(self, value: Any, name: str = "value") -> int:
        """Return ``value`` as an int of ``low..high`` (integral floats accepted).

        Parameters
        ----------
        value : int
            The value.
        name : str
            The name in the error message.

        Returns
        -------
        int

        Raises
        ------
        ConfigError
            If the value is not an integer in the bounds.
        """
        value = plain(value)
        if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
            value = int(value)
        v = check_exact_int(value, name)
        if not self.low <= v <= self.high:
            raise ConfigError(f"{name}: must be in [{self.low}, {self.high}] (got {v!r})")
        return v

    def to_unit(self, values: Sequence[Any]) -> np.ndarray:
        """Centre of each integer's bin: ``(k - low + 0.5) / (high - low + 1)`` (linear).

        Parameters
        ----------
        values : sequence of int
            Values of the support.

        Returns
        -------
        numpy.ndarray
        """
        x = np.array(self._checked(values), dtype=float)
        a, b = self._ends()
        x = np.log(x) if self.log else x
        return np.clip((x - a) / (b - a), 0.0, 1.0)

    def from_unit(self, u: Any) -> list:
        """Inverse CDF, rounded to the nearest integer and clipped into the bounds.

        Parameters
        ----------
        u : array_like
            Values in [0, 1].

        Returns
        -------
        list of int
        """
        u = unit_array(u)
        a, b = self._ends()
        x = a + u * (b - a)
        if self.log:
            x = np.exp(x)
        x = np.clip(np.round(x), self.low, self.high)
        return [int(v) for v in x]

    def grid(self) -> list:
        """Every integer ``low..high``.

        Returns
        -------
        list of int
        """
        if self.high - self.low + 1 > MAX_GRID:
            raise ConfigError(f"grid: {self.high - self.low + 1} values exceeds the limit of "
                              f"{MAX_GRID} ({self!r})")
        return list(range(self.low, self.high + 1))

    @property
    def is_continuous(self) -> bool:
        """Always False."""
        return False

    def to_dict(self) -> dict[str, Any]:
        """``int_uniform`` (or hpstudy's extension ``int_log_uniform_values``).

        Returns
        -------
        dict
        """
        name = "int_log_uniform_values" if self.log else "int_uniform"
        return {"distribution": name, "min": self.low, "max": self.high}
