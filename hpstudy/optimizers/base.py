"""The optimizer protocol: one method.

An optimizer's suggestion is a pure function of ``(space, trials, rng)``: the
study seeds ``rng`` from the study seed and the number of the first trial it asks
for, so a resumed study asks the same questions as an uninterrupted one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from hpstudy.space import SearchSpace
    from hpstudy.trials import Trials

__all__ = ["Optimizer"]


@runtime_checkable
class Optimizer(Protocol):
    """Suggests parameters to evaluate next."""

    def ask(
        self, space: SearchSpace, trials: Trials, n: int, rng: np.random.Generator
    ) -> list[dict[str, Any]]:
        """Return up to ``n`` parameter dicts (flat names) to evaluate next.

        Parameters
        ----------
        space : SearchSpace
            The search space; every returned dict must pass ``space.validate``.
        trials : Trials
            Every trial so far, RUNNING ones included (their points are pending).
        n : int
            How many suggestions are wanted (>= 1), e.g. one per free worker.
        rng : numpy.random.Generator
            The only source of randomness allowed.

        Returns
        -------
        list of dict
            Fewer than ``n`` (possibly none) when the optimizer is exhausted,
            as a finished grid is.
        """
        ...
