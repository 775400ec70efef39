"""Random search: independent draws from the space's distributions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

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
    """

    def ask(self, space: SearchSpace, trials: Trials, n: int, rng: np.random.Generator
            ) -> list[dict[str, Any]]:
        """Return ``n`` independent samples of ``space``."""
        return space.sample(n, seed=rng)
