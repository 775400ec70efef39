"""Search spaces: dimensions and :class:`SearchSpace`.

A dimension is a frozen, validated description of one hyperparameter's values
and distribution: :class:`Real`, :class:`Integer`, :class:`Categorical`,
:class:`Constant`, and W&B's other distributions :class:`Normal`,
:class:`LogNormal` and :class:`Beta`. Every W&B distribution maps onto one of
them (see :doc:`/sweeps`). Each dimension maps its values to the unit interval
with its CDF (``to_unit``) and back with its inverse CDF (``from_unit``), so an
optimizer can model every space as the unit cube.
"""

from hpstudy.space._categorical import MAX_VALUES
from hpstudy.space._search_space import (
    Beta,
    Categorical,
    Constant,
    Dimension,
    Integer,
    LogNormal,
    Normal,
    Real,
    SearchSpace,
)

__all__ = [
    "Beta",
    "Categorical",
    "Constant",
    "Dimension",
    "Integer",
    "LogNormal",
    "MAX_VALUES",
    "Normal",
    "Real",
    "SearchSpace",
]
