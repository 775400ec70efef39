"""Grid search: every combination, in order, once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hpstudy.optimizers._balance import balance_levels, check_balance, level_counts

if TYPE_CHECKING:
    import numpy as np

    from hpstudy.space import SearchSpace
    from hpstudy.trials import Trials

__all__ = ["GridSearch"]


def _key(params: Mapping[str, Any], names: tuple[str, ...]) -> str:
    return json.dumps([params.get(name) for name in names])


class GridSearch:
    """Enumerate ``space.grid()`` in order, skipping points already tried.

    Points of every trial count as tried, whatever their state (a failed point
    is not retried). The study ends when the grid is exhausted. A continuous
    dimension makes ``space.grid()`` raise :class:`~hpstudy.ConfigError`.

    Parameters
    ----------
    balance : str, optional
        A categorical parameter (``"model_name"``): the next point is the first
        untried one of the value with the fewest trials so far, so every value
        gets its share of a grid cut short (by ``run_cap`` or ``--trials``).
    """

    def __init__(self, balance: str | None = None) -> None:
        self.balance = check_balance(balance)
        self._cache: tuple[Any, list[dict[str, Any]]] | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GridSearch) and other.balance == self.balance

    def __hash__(self) -> int:
        return hash((GridSearch, self.balance))

    def __getstate__(self) -> dict:
        return {"balance": self.balance}

    def __setstate__(self, state: dict) -> None:
        self.balance = state.get("balance")
        self._cache = None

    def __repr__(self) -> str:
        return "GridSearch()" if self.balance is None else f"GridSearch(balance={self.balance!r})"

    def _grid(self, space: SearchSpace) -> list[dict[str, Any]]:
        if self._cache is None or not (self._cache[0] is space or self._cache[0] == space):
            self._cache = (space, space.grid())
        return self._cache[1]

    def ask(self, space: SearchSpace, trials: Trials, n: int, rng: np.random.Generator
            ) -> list[dict[str, Any]]:
        """Return the next ``n`` untried grid points (fewer, or none, at the end)."""
        names = tuple(space.names)
        tried = {_key(t.params, names) for t in trials}
        if self.balance is not None:
            return self._balanced(space, trials, n, names, tried)
        out = []
        for point in self._grid(space):
            if _key(point, names) not in tried:
                out.append(dict(point))
                if len(out) == n:
                    break
        return out

    def _balanced(self, space: SearchSpace, trials: Trials, n: int, names: tuple[str, ...],
                  tried: set[str]) -> list[dict[str, Any]]:
        assert self.balance is not None
        levels = balance_levels(space, self.balance)
        queues: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(levels))}
        for point in self._grid(space):
            if _key(point, names) in tried:
                continue
            for i, level in enumerate(levels):
                if point.get(self.balance) == level:
                    queues[i].append(point)
                    break
        counts = level_counts(levels, self.balance, trials)
        out: list[dict[str, Any]] = []
        while len(out) < n:
            open_levels = tuple(i for i in queues if queues[i])
            if not open_levels:
                break
            i = min(open_levels, key=lambda j: (counts[j], j))
            out.append(dict(queues[i].pop(0)))
            counts[i] += 1
        return out
