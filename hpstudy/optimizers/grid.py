"""Grid search: every combination, in order, once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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
    """

    def __init__(self) -> None:
        self._cache: tuple[Any, list[dict[str, Any]]] | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GridSearch)

    def __hash__(self) -> int:
        return hash(GridSearch)

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self._cache = None

    def __repr__(self) -> str:
        return "GridSearch()"

    def _grid(self, space: SearchSpace) -> list[dict[str, Any]]:
        if self._cache is None or not (self._cache[0] is space or self._cache[0] == space):
            self._cache = (space, space.grid())
        return self._cache[1]

    def ask(self, space: SearchSpace, trials: Trials, n: int, rng: np.random.Generator
            ) -> list[dict[str, Any]]:
        """Return the next ``n`` untried grid points (fewer, or none, at the end)."""
        names = tuple(space.names)
        tried = {_key(t.params, names) for t in trials}
        out = []
        for point in self._grid(space):
            if _key(point, names) not in tried:
                out.append(dict(point))
                if len(out) == n:
                    break
        return out
