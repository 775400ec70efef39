"""The GP's balance: a minimum number of complete configurations per value of a parameter.

With ``GPOptimizer(balance="model")``, while some value of the categorical parameter
``model`` has fewer than ``min_per_value`` complete configurations (COMPLETE trials,
counting RUNNING ones and those already chosen in the batch as on their way), the
next suggestion is constrained to that value (the one with the fewest, the first on
ties): the acquisition is maximised over the slice of the space where ``model`` takes
that value (the initial design's maximin step, within the slice, before the model takes
over). A value is forced at most ``FORCE_LIMIT * min_per_value`` times in all (trials
of any state): a value whose trials are always pruned or fail does not take the whole
study.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import qmc

from hpstudy.optimizers._balance import balance_levels, level_counts
from hpstudy.trials import Trials, TrialState

if TYPE_CHECKING:
    from hpstudy.optimizers.gp._encoding import Encoder
    from hpstudy.space import SearchSpace

__all__ = ["FORCE_LIMIT", "BalancePlan"]

#: A value is forced at most this many times ``min_per_value`` (its trials of any state).
FORCE_LIMIT = 4


class BalancePlan:
    """Which value the next suggestion must take, for one ask.

    Parameters
    ----------
    enc : Encoder
        The GP's encoder of ``space``.
    space : SearchSpace
        The search space.
    trials : Trials
        Every trial so far.
    name : str
        The balanced categorical parameter (ConfigError when it is not one).
    min_per_value : int
        Complete configurations wanted for each value.
    """

    def __init__(self, enc: Encoder, space: SearchSpace, trials: Trials, name: str,
                 min_per_value: int) -> None:
        self.levels = balance_levels(space, name)
        self.name, self.minimum = name, min_per_value
        cols = [j for j, c in enumerate(enc.columns) if c.name == name]
        self.col = cols[0] if cols else None  # no column: a single value, nothing to force
        base = enc.decode(np.zeros((1, enc.n_columns)))[0]
        self.codes = ([float(enc.encode([{**base, name: v}])[0][self.col]) for v in self.levels]
                      if self.col is not None else [])
        self.tries = level_counts(self.levels, name, trials)
        finite = Trials((t for t in trials if t.state is TrialState.RUNNING
                         or (t.state is TrialState.COMPLETE and t.value is not None
                             and math.isfinite(t.value))), metric=trials.metric, goal=trials.goal)
        self.on_way = level_counts(self.levels, name, finite)

    def forced(self) -> int | None:
        """The index of the value the next suggestion must take, or None."""
        if self.col is None:
            return None
        need = [i for i in range(len(self.levels)) if self.on_way[i] < self.minimum
                and self.tries[i] < FORCE_LIMIT * self.minimum]
        return min(need, key=lambda i: (self.on_way[i], i)) if need else None

    def add(self, x: np.ndarray) -> None:
        """Count a chosen row as a trial on its way to completion."""
        if self.col is None:
            return
        for i, code in enumerate(self.codes):
            if math.isclose(float(x[self.col]), code):
                self.tries[i] += 1
                self.on_way[i] += 1
                return

    def point(self, i: int, enc: Encoder, rng: np.random.Generator, exclude: set,
              others: list[np.ndarray], n_candidates: int,
              score: Callable[[np.ndarray], np.ndarray] | None,
              farthest: Callable[[np.ndarray, list[np.ndarray], Encoder], int],
              ) -> np.ndarray | None:
        """The best new row with the value ``i``: the acquisition's maximum (``score``) over
        a Sobol sweep of the slice, or, without a model, the candidate that ``farthest``
        picks (the index of the one farthest from ``others``, by the initial design's
        distance: on continuous columns it wraps around, so the slice's design points do
        not pile on the box's faces)."""
        assert self.col is not None
        m = 1 << max(4, math.ceil(math.log2(max(16, n_candidates))))
        X = enc.from_cube(qmc.Sobol(enc.n_columns, scramble=True, seed=rng).random(m))
        X[:, self.col] = self.codes[i]
        keep = np.array([enc.key(x) not in exclude for x in X], dtype=bool)
        X = X[keep]
        if len(X) == 0:
            return None
        if score is not None:
            return X[int(np.argmax(score(X)))]
        if not others:
            return X[0]
        return X[farthest(X, others, enc)]


def describe(balance: str | None, min_per_value: int) -> str:
    """The repr tail of a balanced optimizer (empty without balance)."""
    return "" if balance is None else f", balance={balance!r}, min_per_value={min_per_value!r}"


def check(min_per_value: Any) -> int:
    """``min_per_value``: an int >= 1."""
    from hpstudy._validation import check_int

    return check_int("min_per_value", min_per_value, 1)
