"""W&B's other real distributions: Normal, LogNormal, Beta (each optionally quantised).

Private: users import them from :mod:`hpstudy.space`. The CDFs and inverse CDFs
come from :mod:`scipy.special` (imported lazily, so ``import hpstudy`` stays fast).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs
import numpy as np

from hpstudy.errors import ConfigError
from hpstudy.space._base import (
    EPS,
    Dimension,
    check_finite_value,
    check_positive,
    check_q,
    clean_float,
    is_multiple,
    quantize,
    unit_array,
)

__all__ = ["Beta", "LogNormal", "Normal"]


class _Continuous(Dimension):
    """A real distribution given by its CDF and inverse CDF, quantised when ``q`` is set."""

    __slots__ = ()
    kind: ClassVar[str] = "real"
    q: float | None
    _lower: ClassVar[float] = -math.inf
    _upper: ClassVar[float] = math.inf
    _open_lower: ClassVar[bool] = False
    _wandb: ClassVar[str] = ""

    def _cdf(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _finish_init(self) -> None:
        q = check_q(self.q)
        object.__setattr__(self, "q", q)
        ends = self._ppf(np.array([EPS, 0.5, 1 - EPS]))
        if not np.all(np.isfinite(ends)):
            raise ConfigError(f"parameters {self._params()}: the distribution's quantiles "
                              f"overflow (ppf at 1e-12, 0.5, 1 - 1e-12 = {ends.tolist()})")
        if q is not None and float(np.max(np.abs(ends))) / q >= 2**52:
            raise ConfigError(f"q: too small for the distribution's range (got {q!r})")

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
            If the value is outside the support (or not a multiple of ``q``).
        """
        v = float(check_finite_value(value, name))
        lower = self._lower if self.q is None else min(self._lower, 0.0)
        upper = self._upper
        if self.q is not None and math.isfinite(upper):
            upper = max(upper, float(quantize(np.array([upper]), self.q)[0]))
        if not lower <= v <= upper:
            raise ConfigError(f"{name}: must be in [{lower!r}, {upper!r}] (got {value!r})")
        if self._open_lower and self.q is None and v <= self._lower:
            raise ConfigError(f"{name}: must be > 0 (got {value!r})")
        if self.q is not None:
            if not is_multiple(v, self.q):
                raise ConfigError(f"{name}: must be a multiple of q={self.q!r} (got {value!r})")
            return int(round(v)) if isinstance(self.q, int) else clean_float(v)
        return v

    def to_unit(self, values: Sequence[Any]) -> np.ndarray:
        """The CDF of each value, clipped into ``[1e-12, 1 - 1e-12]``.

        Parameters
        ----------
        values : sequence of float
            Values of the support.

        Returns
        -------
        numpy.ndarray
        """
        x = np.array(self._checked(values), dtype=float)
        return np.clip(self._cdf(x), EPS, 1 - EPS)

    def from_unit(self, u: Any) -> list:
        """Clip into ``[1e-12, 1 - 1e-12]``, inverse CDF, then quantise when ``q`` is set.

        Parameters
        ----------
        u : array_like
            Values in [0, 1].

        Returns
        -------
        list of float (or int for an int ``q``)
        """
        x = self._ppf(np.clip(unit_array(u), EPS, 1 - EPS))
        x = np.clip(x, self._lower, self._upper)
        if self.q is not None:
            return quantize(x, self.q)
        return [float(v) for v in x]

    def grid(self) -> list:
        """Always raises: the distribution is continuous (W&B's grid refuses it too).

        Returns
        -------
        list
            Never returns.

        Raises
        ------
        ConfigError
            Always.
        """
        raise self._continuous_grid_error(f"{self._wandb} cannot be enumerated")

    @property
    def is_continuous(self) -> bool:
        """Always True."""
        return True

    def to_dict(self) -> dict[str, Any]:
        """The W&B mapping (``distribution`` is the ``q_`` form when ``q`` is set).

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"distribution": ("q_" if self.q is not None else "") + self._wandb}
        out.update(self._params())
        if self.q is not None:
            out["q"] = self.q
        return out


@attrs.frozen
class Normal(_Continuous):
    """Normal: ``X = N(mu, sigma**2)`` (W&B's ``normal``; ``q_normal`` when ``q`` is set,
    then ``X = round(X / q) * q``).

    Parameters
    ----------
    mu : float, default 0
        Mean.
    sigma : float, default 1
        Standard deviation (> 0).
    q : float or None, default None
        Quantisation step (> 0); an int step gives ints.

    Examples
    --------
    >>> Normal(0, 1).from_unit([0.5])
    [0.0]
    """

    mu: float = 0.0
    sigma: float = 1.0
    q: float | None = attrs.field(default=None, kw_only=True)
    _wandb: ClassVar[str] = "normal"

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "mu", check_finite_value(self.mu, "mu"))
        object.__setattr__(self, "sigma", check_positive(self.sigma, "sigma"))
        self._finish_init()

    def _params(self) -> dict[str, Any]:
        return {"mu": self.mu, "sigma": self.sigma}

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        from scipy.special import ndtr

        return ndtr((x - self.mu) / self.sigma)

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import ndtri

        with np.errstate(over="ignore", invalid="ignore"):
            return self.mu + self.sigma * ndtri(u)


@attrs.frozen
class LogNormal(_Continuous):
    """Log-normal: ``X = exp(N(mu, sigma**2))`` (W&B's ``log_normal``, scipy's
    ``lognorm(s=sigma, scale=exp(mu))``; ``q_log_normal`` when ``q`` is set).

    Parameters
    ----------
    mu : float, default 0
        Mean of ``log X``.
    sigma : float, default 1
        Standard deviation of ``log X`` (> 0).
    q : float or None, default None
        Quantisation step (> 0); an int step gives ints.

    Examples
    --------
    >>> LogNormal(0, 1).from_unit([0.5])
    [1.0]
    """

    mu: float = 0.0
    sigma: float = 1.0
    q: float | None = attrs.field(default=None, kw_only=True)
    _wandb: ClassVar[str] = "log_normal"
    _lower: ClassVar[float] = 0.0
    _open_lower: ClassVar[bool] = True

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "mu", check_finite_value(self.mu, "mu"))
        object.__setattr__(self, "sigma", check_positive(self.sigma, "sigma"))
        self._finish_init()

    def _params(self) -> dict[str, Any]:
        return {"mu": self.mu, "sigma": self.sigma}

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        from scipy.special import ndtr

        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(x, 0.0)) - self.mu) / self.sigma
        return ndtr(z)

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import ndtri

        with np.errstate(over="ignore"):
            return np.exp(self.mu + self.sigma * ndtri(u))


@attrs.frozen
class Beta(_Continuous):
    """Beta on [0, 1]: ``X = Beta(a, b)`` (W&B's ``beta``; ``q_beta`` when ``q`` is set).

    Parameters
    ----------
    a, b : float, default 1
        Shape parameters (> 0).
    q : float or None, default None
        Quantisation step (> 0); an int step gives ints.

    Examples
    --------
    >>> Beta(2, 2).from_unit([0.5])
    [0.5]
    """

    a: float = 1.0
    b: float = 1.0
    q: float | None = attrs.field(default=None, kw_only=True)
    _wandb: ClassVar[str] = "beta"
    _lower: ClassVar[float] = 0.0
    _upper: ClassVar[float] = 1.0

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "a", check_positive(self.a, "a"))
        object.__setattr__(self, "b", check_positive(self.b, "b"))
        self._finish_init()

    def _params(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b}

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        from scipy.special import betainc

        return betainc(self.a, self.b, np.clip(x, 0.0, 1.0))

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import betaincinv

        return betaincinv(self.a, self.b, u)
