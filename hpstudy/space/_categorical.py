"""The discrete-choice dimension: Categorical.

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
    check_storable,
    is_number,
    plain,
    same_value,
    short,
    unit_array,
    value_key,
)

__all__ = ["MAX_VALUES", "Categorical"]

#: The most entries one categorical parameter may list (a sweep file's ``values``).
MAX_VALUES = 100_000


class _Lookup:
    """Index of distinct values by :func:`value_key`: linear-time de-duplication.

    Values without a key (exotic objects) are compared one by one with
    :func:`same_value`, as before.
    """

    __slots__ = ("keyed", "loose", "values")

    def __init__(self) -> None:
        self.values: list = []
        self.keyed: dict[Any, int] = {}
        self.loose: list[int] = []  # indices of values without a key

    def find(self, value: Any, key: Any = None) -> int:
        """The index of ``value`` (whose :func:`value_key` is ``key`` when given), or -1."""
        if key is None:
            key = value_key(value)
        if key is not None:
            i = self.keyed.get(key, -1)
            if i >= 0 or not self.loose:
                return i
            candidates: Sequence[int] = self.loose
        else:
            candidates = range(len(self.values))
        return next((i for i in candidates if same_value(self.values[i], value)), -1)

    def add(self, value: Any) -> int:
        """The index of ``value``, appended first when new."""
        key = value_key(value)
        i = self.find(value, key)
        if i < 0:
            i = len(self.values)
            self.values.append(value)
            if key is None:
                self.loose.append(i)
            else:
                self.keyed[key] = i
        return i


def _same_seq(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))


def _index(values: tuple, value: Any) -> int:
    for i, v in enumerate(values):
        if same_value(v, value):
            return i
    return -1


#: W&B's tolerance for probabilities summing to 1 (``numpy.isclose(sum(p), 1.0)``).
PROBABILITY_RTOL, PROBABILITY_ATOL = 1e-5, 1e-8


@attrs.frozen(eq=False, repr=False)
class Categorical(Dimension):
    """One of a list of values (W&B's ``values``), optionally with probabilities.

    As in W&B, each written entry is drawn with probability ``1 / len(values)``
    (or its ``probabilities`` entry), so a value written twice weighs double; a
    grid visits each distinct value once, in written order.

    Parameters
    ----------
    values : sequence
        At least one value; repeats allowed (``True`` and ``1`` are different values,
        ``1`` and ``1.0`` the same).
    probabilities : sequence of float or None
        One probability (>= 0) per entry, summing to 1 within W&B's tolerance
        (``numpy.isclose``: 1e-5 relative plus 1e-8); None for uniform.
    ordered : bool or None
        Whether the values' order is meaningful. None (auto): True when every value
        is a number (not a bool); then :attr:`values` is sorted ascending.

    Attributes
    ----------
    values : tuple
        The distinct values (sorted when ordered numbers): what optimizers index.
    probabilities : tuple or None
        Each distinct value's probability (repeats' entries summed), aligned with
        :attr:`values`.
    entries : tuple
        The values as written (order and repeats kept), for :meth:`grid` and :meth:`to_dict`.
    entry_probabilities : tuple or None
        The ``probabilities`` as written, one per entry.

    Examples
    --------
    >>> Categorical([64, 16, 32]).values
    (16, 32, 64)
    >>> Categorical([64, 16, 32]).grid()
    [64, 16, 32]
    >>> Categorical(["a", "b", "a"]).probabilities
    (0.6666666666666666, 0.3333333333333333)
    >>> Categorical(["adam", "sgd"]).to_unit(["sgd"])
    array([0.75])
    """

    values: tuple
    probabilities: tuple | None = attrs.field(default=None, kw_only=True)
    ordered: bool | None = attrs.field(default=None, kw_only=True)
    entries: tuple = attrs.field(init=False, default=())
    entry_probabilities: tuple | None = attrs.field(init=False, default=None)
    _lookup: _Lookup | None = attrs.field(init=False, default=None, repr=False)
    _slots: tuple = attrs.field(init=False, default=(), repr=False)
    kind: ClassVar[str] = "categorical"

    def __attrs_post_init__(self) -> None:
        values = self.values
        if isinstance(values, (str, bytes, dict)) or not isinstance(values, (Sequence, np.ndarray)):
            raise ConfigError(f"values: must be a list (got {type(values).__name__})")
        if len(values) > MAX_VALUES:
            raise ConfigError(f"values: at most {MAX_VALUES:,} entries (got {len(values):,})")
        entries = [plain(v) for v in values]
        if not entries:
            raise ConfigError("values: must not be empty")
        seen = _Lookup()
        slot: list[int] = []  # entry i is distinct[slot[i]]
        for i, v in enumerate(entries):
            if isinstance(v, float) and math.isnan(v):
                raise ConfigError(f"values[{i}]: must not be NaN")
            check_storable(v, f"values[{i}]")
            slot.append(seen.add(v))
        distinct = seen.values
        given = self.probabilities
        probs: list[float] | None = None
        weights: list[float] | None = None
        if given is not None:
            if isinstance(given, (str, bytes, dict)) or not isinstance(
                    given, (Sequence, np.ndarray)):
                raise ConfigError(f"probabilities: must be a list (got {type(given).__name__})")
            probs = [float(check_positive(p, f"probabilities[{i}]", strict=False))
                     for i, p in enumerate(given)]
            if len(probs) != len(entries):
                raise ConfigError(f"probabilities: must have one entry per value "
                                  f"({len(entries)}) (got {len(probs)})")
            total = sum(probs)
            if not abs(total - 1.0) <= PROBABILITY_ATOL + PROBABILITY_RTOL:
                raise ConfigError(f"probabilities: must sum to 1 within 1e-5 (got {total!r})")
            weights = [0.0] * len(distinct)
            for j, p in zip(slot, probs, strict=True):
                weights[j] += p
        elif len(distinct) < len(entries):
            weights = [0.0] * len(distinct)
            for j in slot:
                weights[j] += 1.0
            weights = [w / len(entries) for w in weights]
        ordered = self.ordered
        if ordered is not None:
            ordered = check_bool(ordered, "ordered")
        numeric = all(is_number(v) for v in distinct)
        if (ordered is None and numeric) or (ordered and numeric):
            order = sorted(range(len(distinct)), key=lambda i: distinct[i])
            distinct = [distinct[i] for i in order]
            weights = None if weights is None else [weights[i] for i in order]
            rank = [0] * len(order)
            for new, old in enumerate(order):
                rank[old] = new
            slot = [rank[j] for j in slot]
            seen = _Lookup()
            for v in distinct:
                seen.add(v)
        object.__setattr__(self, "_lookup", seen)
        object.__setattr__(self, "_slots", tuple(slot))
        object.__setattr__(self, "values", tuple(distinct))
        object.__setattr__(self, "probabilities", None if weights is None else tuple(weights))
        object.__setattr__(self, "ordered", ordered)
        object.__setattr__(self, "entries", tuple(entries))
        object.__setattr__(self, "entry_probabilities", None if probs is None else tuple(probs))

    def __repr__(self) -> str:
        text = (f"Categorical(values={self.values!r}, probabilities={self.probabilities!r}, "
                f"ordered={self.ordered!r}")
        if not _same_seq(self.entries, self.values) or (
                self.entry_probabilities is not None
                and self.entry_probabilities != self.probabilities):
            text += f", entries={self.entries!r}, entry_probabilities={self.entry_probabilities!r}"
        return text + ")"

    @property
    def is_ordered(self) -> bool:
        """Whether optimizers should treat the values as ordinal (by index)."""
        if self.ordered is not None:
            return self.ordered
        return all(is_number(v) for v in self.values)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Categorical:
            return NotImplemented
        return (_same_seq(self.entries, other.entries) and _same_seq(self.values, other.values)
                and self.entry_probabilities == other.entry_probabilities
                and self.ordered == other.ordered)

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
        lookup = self._lookup
        i = _index(self.values, plain(value)) if lookup is None else lookup.find(plain(value))
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
        """Draw ``n`` values: each entry with probability ``1 / len(entries)``, or its
        ``probabilities`` entry (so a repeated value weighs more, as in W&B).

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
        if self.probabilities is None:  # no repeats: every value one entry
            idx = rng.integers(0, k, size=n)
        elif self.entry_probabilities is None:  # repeats: draw an entry
            entry = rng.integers(0, len(self.entries), size=n)
            return [self.values[self._slots[i]] for i in entry]
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
        """Each distinct value once, in written order (W&B's grid).

        Returns
        -------
        list
        """
        firsts = dict.fromkeys(self._slots)  # distinct indices in order of first entry
        return [self.values[j] for j in firsts]

    @property
    def is_continuous(self) -> bool:
        """Always False."""
        return False

    def to_dict(self) -> dict[str, Any]:
        """``{"values": [...]}`` as written, plus ``probabilities`` (and hpstudy's
        ``ordered`` when it differs from the automatic choice).

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"values": list(self.entries)}
        if self.entry_probabilities is not None:
            out["probabilities"] = list(self.entry_probabilities)
        if self.ordered is not None:
            out["ordered"] = self.ordered
        return out
