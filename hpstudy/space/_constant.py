"""The fixed-value dimension: Constant.

Private: users import it from :mod:`hpstudy.space`.
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
    check_n,
    check_rng,
    check_storable,
    plain,
    same_value,
    short,
    unit_array,
)

__all__ = ["Constant"]


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
        check_storable(value, "value")
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
