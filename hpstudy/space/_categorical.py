"""The discrete-choice dimensions: Categorical and Constant.

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
    Dimension,
    check_bool,
    check_n,
    check_positive,
    check_rng,
    is_number,
    plain,
    same_value,
    short,
    unit_array,
)

__all__ = ["Categorical", "Constant"]

def _index(values: tuple, value: Any) -> int:
    for i, v in enumerate(values):
        if same_value(v, value):
            return i
    return -1


@attrs.frozen(eq=False)
class Categorical(Dimension):
    """One of a list of values (W&B's ``values``), optionally with probabilities.

    Parameters
    ----------
    values : sequence
        At least one value, no duplicates (``True`` and ``1`` are different values).
    probabilities : sequence of float or None
        One probability (>= 0) per value, summing to 1 within 1e-6; None for uniform.
    ordered : bool or None
        Whether the values' order is meaningful. None (auto): True when every value
        is a number (not a bool); then the values are sorted ascending.

    Examples
    --------
    >>> Categorical([64, 16, 32]).values
    (16, 32, 64)
    >>> Categorical(["adam", "sgd"]).to_unit(["sgd"])
    array([0.75])
    """

    values: tuple
    probabilities: tuple | None = attrs.field(default=None, kw_only=True)
    ordered: bool | None = attrs.field(default=None, kw_only=True)
    kind: ClassVar[str] = "categorical"

    def __attrs_post_init__(self) -> None:
        values = self.values
        if isinstance(values, (str, bytes, dict)) or not isinstance(values, (Sequence, np.ndarray)):
            raise ConfigError(f"values: must be a list (got {type(values).__name__})")
        values = [plain(v) for v in values]
        if not values:
            raise ConfigError("values: must not be empty")
        for i, v in enumerate(values):
            if isinstance(v, float) and math.isnan(v):
                raise ConfigError(f"values[{i}]: must not be NaN")
            if _index(tuple(values[:i]), v) >= 0:
                raise ConfigError(f"values[{i}]: duplicate value {short(v)}")
        probs = self.probabilities
        if probs is not None:
            if isinstance(probs, (str, bytes, dict)) or not isinstance(
                    probs, (Sequence, np.ndarray)):
                raise ConfigError(f"probabilities: must be a list (got {type(probs).__name__})")
            probs = [float(check_positive(p, f"probabilities[{i}]", strict=False))
                     for i, p in enumerate(probs)]
            if len(probs) != len(values):
                raise ConfigError(f"probabilities: must have one entry per value "
                                  f"({len(values)}) (got {len(probs)})")
            if abs(math.fsum(probs) - 1.0) > 1e-6:
                raise ConfigError(f"probabilities: must sum to 1 (got {math.fsum(probs)!r})")
        ordered = self.ordered
        if ordered is not None:
            ordered = check_bool(ordered, "ordered")
        numeric = all(is_number(v) for v in values)
        if (ordered is None and numeric) or (ordered and numeric):
            order = sorted(range(len(values)), key=lambda i: values[i])
            values = [values[i] for i in order]
            probs = None if probs is None else [probs[i] for i in order]
        object.__setattr__(self, "values", tuple(values))
        object.__setattr__(self, "probabilities", None if probs is None else tuple(probs))
        object.__setattr__(self, "ordered", ordered)

    @property
    def is_ordered(self) -> bool:
        """Whether optimizers should treat the values as ordinal (by index)."""
        if self.ordered is not None:
            return self.ordered
        return all(is_number(v) for v in self.values)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Categorical:
            return NotImplemented
        return (len(self.values) == len(other.values)
                and all(same_value(a, b) for a, b in zip(self.values, other.values, strict=True))
                and self.probabilities == other.probabilities and self.ordered == other.ordered)

    def __hash__(self) -> int:
        return hash((len(self.values), self.probabilities, self.ordered))

    def index(self, value: Any, name: str = "value") -> int:
        """The index of ``value`` in :attr:`values`.

        Parameters
        ----------
        value : object
            One of the values.
        name : str
            The name in the error message.

        Returns
        -------
        int

        Raises
        ------
        ConfigError
            If the value is not one of the values.
        """
        i = _index(self.values, plain(value))
        if i < 0:
            raise ConfigError(f"{name}: must be one of {short(list(self.values))} "
                              f"(got {short(value)})")
        return i

    def check(self, value: Any, name: str = "value") -> Any:
        """Return the stored value equal to ``value``.

        Parameters
        ----------
        value : object
            The value.
        name : str
            The name in the error message.

        Returns
        -------
        object

        Raises
        ------
        ConfigError
            If the value is not one of the values.
        """
        return self.values[self.index(value, name)]

    def sample(self, rng: np.random.Generator, n: int) -> list:
        """Draw ``n`` values, with :attr:`probabilities` when given.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of randomness.
        n : int
            How many values.

        Returns
        -------
        list
        """
        n, rng = check_n(n), check_rng(rng)
        k = len(self.values)
        if self.probabilities is None:
            idx = rng.integers(0, k, size=n)
        else:
            p = np.asarray(self.probabilities, dtype=float)
            idx = rng.choice(k, size=n, p=p / p.sum())
        return [self.values[i] for i in idx]

    def to_unit(self, values: Sequence[Any]) -> np.ndarray:
        """Index ``i`` of ``k`` values maps to ``(i + 0.5) / k``.

        Parameters
        ----------
        values : sequence
            Values of the dimension.

        Returns
        -------
        numpy.ndarray
        """
        self._checked(values)
        idx = np.array([self.index(v) for v in values], dtype=float)
        return (idx + 0.5) / len(self.values)

    def from_unit(self, u: Any) -> list:
        """``u`` maps to the value of index ``floor(u * k)`` (clipped to ``k - 1``).

        Parameters
        ----------
        u : array_like
            Values in [0, 1].

        Returns
        -------
        list
        """
        k = len(self.values)
        idx = np.minimum(np.floor(unit_array(u) * k), k - 1).astype(int)
        return [self.values[i] for i in idx]

    def grid(self) -> list:
        """The values, in order.

        Returns
        -------
        list
        """
        return list(self.values)

    @property
    def is_continuous(self) -> bool:
        """Always False."""
        return False

    def to_dict(self) -> dict[str, Any]:
        """``{"values": [...]}`` plus ``probabilities`` (and hpstudy's ``ordered``
        when it differs from the automatic choice).

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"values": list(self.values)}
        if self.probabilities is not None:
            out["probabilities"] = list(self.probabilities)
        if self.ordered is not None:
            out["ordered"] = self.ordered
        return out


@attrs.frozen(eq=False)
class Constant(Dimension):
    """A fixed value (W&B's ``value``).

    Parameters
    ----------
    value : object
        The value (not NaN).

    Examples
    --------
    >>> Constant("adam").grid()
    ['adam']
    """

    value: Any
    kind: ClassVar[str] = "constant"

    def __attrs_post_init__(self) -> None:
        value = plain(self.value)
        if isinstance(value, float) and math.isnan(value):
            raise ConfigError("value: must not be NaN")
        object.__setattr__(self, "value", value)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Constant:
            return NotImplemented
        return same_value(self.value, other.value)

    def __hash__(self) -> int:
        v = self.value
        simple = v is None or isinstance(v, (str, int, float, bool))
        return hash(("Constant", v if simple else type(v).__name__))

    def check(self, value: Any, name: str = "value") -> Any:
        """Return the constant if ``value`` equals it.

        Parameters
        ----------
        value : object
            The value.
        name : str
            The name in the error message.

        Returns
        -------
        object

        Raises
        ------
        ConfigError
            If the value differs from the constant.
        """
        if not same_value(self.value, plain(value)):
            raise ConfigError(f"{name}: must be {short(self.value)} (got {short(value)})")
        return self.value

    def sample(self, rng: np.random.Generator, n: int) -> list:
        """``n`` copies of the value.

        Parameters
        ----------
        rng : numpy.random.Generator
            Unused (checked).
        n : int
            How many values.

        Returns
        -------
        list
        """
        n = check_n(n)
        check_rng(rng)
        return [self.value] * n

    def to_unit(self, values: Sequence[Any]) -> np.ndarray:
        """Always 0.5.

        Parameters
        ----------
        values : sequence
            Copies of the value.

        Returns
        -------
        numpy.ndarray
        """
        return np.full(len(self._checked(values)), 0.5)

    def from_unit(self, u: Any) -> list:
        """The value, once per coordinate.

        Parameters
        ----------
        u : array_like
            Values in [0, 1].

        Returns
        -------
        list
        """
        return [self.value] * len(unit_array(u))

    def grid(self) -> list:
        """``[value]``.

        Returns
        -------
        list
        """
        return [self.value]

    @property
    def is_continuous(self) -> bool:
        """Always False."""
        return False

    def to_dict(self) -> dict[str, Any]:
        """``{"value": value}``.

        Returns
        -------
        dict
        """
        return {"value": self.value}
