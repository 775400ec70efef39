"""Random search: independent draws from the space's distributions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from hpstudy.optimizers._balance import balance_levels, check_balance, level_counts, next_level

if TYPE_CHECKING:
    import numpy as np

    from hpstudy.space import SearchSpace
    from hpstudy.trials import Trials

__all__ = ["RandomSearch"]


@attrs.frozen
class RandomSearch:
    """Draw each suggestion independently from the search space's distributions.

    The draws depend only on ``rng``, which the study seeds from its seed and
    the trial number: a resumed study draws the same points.

    Parameters
    ----------
    balance : str, optional
        A categorical parameter (``"model_name"``): each suggestion takes the value
        with the fewest trials so far (the first one on ties), the other parameters
        are drawn as usual; the study then has as many trials of each value (give
        or take one), so that a model comparison has every model's share.
    """

    balance: str | None = attrs.field(default=None, converter=check_balance)

    def ask(self, space: SearchSpace, trials: Trials, n: int, rng: np.random.Generator
            ) -> list[dict[str, Any]]:
        """Return ``n`` independent samples of ``space`` (balanced over ``balance``)."""
        points = space.sample(n, seed=rng)
        if self.balance is None:
            return points
        levels = balance_levels(space, self.balance)
        counts = level_counts(levels, self.balance, trials)
        for point in points:
            i = next_level(levels, counts)
            point[self.balance] = levels[i]
            counts[i] += 1
        return points
