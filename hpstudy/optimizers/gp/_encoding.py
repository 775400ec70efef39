"""The encoding of a :class:`~hpstudy.space.SearchSpace` that the GP sees.

One column per non-constant dimension:

- numeric dimensions (reals, integers, quantised reals, other distributions):
  the space's own unit coordinate ``to_unit`` (the CDF, so log-uniform is linear
  in log space). Every candidate is snapped through ``to_unit(from_unit(u))``,
  so an integer or quantised value looks to the GP exactly like the value run.
- ordered categoricals (numbers such as ``batch_size: [16, 32, 64]``): ordinal,
  at the value's position on a linear or a log scale, whichever spaces the
  values more evenly (log for geometric values), rescaled to [0, 1]; non-numeric
  ordered values sit at their index.
- unordered categoricals: the category's index, compared by equality in the
  kernel (a Hamming / one-hot term with one lengthscale per dimension).
- constants: no column; added back on decoding.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["Encoder"]

#: Discrete dimensions with more levels than this are optimised as continuous, then snapped.
MAX_LEVELS = 64


def _is_num(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _n_levels(dim: Any) -> int | None:
    if dim.is_continuous:
        return None
    low, high = getattr(dim, "low", None), getattr(dim, "high", None)
    if dim.kind == "integer" and low is not None and high is not None:
        return int(high) - int(low) + 1
    q = getattr(dim, "q", None)
    if q is not None and low is not None:
        return int((high - low) / q) + 1
    return len(dim.grid())


def _ordinal_positions(values: tuple) -> np.ndarray:
    k = len(values)
    if k == 1:
        return np.array([0.5])
    if not all(_is_num(v) for v in values):
        return np.arange(k) / (k - 1)
    vals = np.asarray(values, dtype=float)
    lin = (vals - vals[0]) / (vals[-1] - vals[0])
    if np.all(vals > 0):
        logs = np.log(vals)
        log = (logs - logs[0]) / (logs[-1] - logs[0])

        def spread(p: np.ndarray) -> float:
            gaps = np.diff(p)
            return float(np.std(gaps) / np.mean(gaps))

        if spread(log) < spread(lin):
            return log
    return lin


class _Column:
    __slots__ = ("name", "dim", "kind", "levels", "positions", "k", "snapped", "unit_of")

    def __init__(self, name: str, dim: Any) -> None:
        self.name, self.dim = name, dim
        self.levels: np.ndarray | None = None
        self.positions: np.ndarray | None = None
        self.k = 0
        self.snapped = True
        self.unit_of: dict | None = None
        if dim.kind == "categorical":
            values = tuple(dim.values)
            self.k = len(values)
            ordered = getattr(dim, "is_ordered", None)
            if ordered is None:
                ordered = all(_is_num(v) for v in values)
            if ordered:
                self.kind = "ordinal"
                self.positions = _ordinal_positions(values)
                self.levels = self.positions
            else:
                self.kind = "cat"
                self.levels = np.arange(self.k, dtype=float)
        else:
            self.kind = "num"
            # Continuous unquantised values need no snapping: to_unit(from_unit(u)) == u.
            self.snapped = not dim.is_continuous or getattr(dim, "q", None) is not None
            n = _n_levels(dim)
            if n is not None and n <= MAX_LEVELS:
                grid = dim.grid()
                coords = np.asarray(dim.to_unit(grid), dtype=float)
                self.levels = np.unique(coords)
                self.unit_of = {_hashable(v): float(u) for v, u in zip(grid, coords, strict=True)}


class Encoder:
    """Maps parameter dicts to encoded rows and back, for one search space."""

    def __init__(self, space: Any) -> None:
        self.names = tuple(space.names)
        self.constants: dict[str, Any] = {}
        self.columns: list[_Column] = []
        for name in self.names:
            dim = space[name]
            if dim.kind == "constant":
                self.constants[name] = dim.grid()[0]
            else:
                self.columns.append(_Column(name, dim))
        self.n_columns = len(self.columns)
        self.is_cat = np.array([c.kind == "cat" for c in self.columns], dtype=bool)
        # Columns that L-BFGS-B moves: numeric ones without a small set of levels.
        self.cont_mask = np.array(
            [c.kind == "num" and c.levels is None for c in self.columns], dtype=bool
        )
        self._memo: dict[tuple, np.ndarray] = {}
        self.levels = {j: c.levels for j, c in enumerate(self.columns) if c.levels is not None}

    # -- encoding --------------------------------------------------------------------------
    def encode_one(self, params: Mapping[str, Any]) -> np.ndarray:
        """The encoded row of one parameter dict, memoised on its values.

        The memo key tells booleans from numbers (``True == 1`` and both hash
        alike, but a categorical may hold both as different values).
        """
        try:
            key = tuple(_hashable(params[n]) for n in self.names)
            hit = self._memo.get(key)
        except (KeyError, TypeError):  # missing names or unhashable values
            key, hit = None, None
        if hit is None:
            hit = self.encode([params])[0]
            if key is not None:
                if len(self._memo) > 100_000:
                    self._memo.clear()
                self._memo[key] = hit
        return hit

    def encode(self, params: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encoded rows for parameter dicts (shape ``(len(params), n_columns)``)."""
        X = np.empty((len(params), self.n_columns))
        for j, c in enumerate(self.columns):
            values = [p[c.name] for p in params]
            if c.kind == "num":
                X[:, j] = np.asarray(c.dim.to_unit(values), dtype=float)
            else:
                idx = [_index(c.dim.values, v) for v in values]
                X[:, j] = _positions(c)[idx] if c.kind == "ordinal" else idx
        return X

    def decode(self, X: np.ndarray) -> list[dict]:
        """Parameter dicts (in the space's order) for encoded rows."""
        X = np.atleast_2d(X)
        cols: dict[str, list] = {}
        for j, c in enumerate(self.columns):
            if c.kind == "num":
                cols[c.name] = list(c.dim.from_unit(np.clip(X[:, j], 0.0, 1.0)))
            else:
                idx = self._indices(c, X[:, j])
                cols[c.name] = [c.dim.values[i] for i in idx]
        out = []
        for i in range(len(X)):
            out.append({n: cols[n][i] if n in cols else self.constants[n] for n in self.names})
        return out

    @staticmethod
    def _indices(c: _Column, col: np.ndarray) -> np.ndarray:
        if c.kind == "cat":
            return np.clip(np.rint(col), 0, c.k - 1).astype(int)
        return np.abs(col[:, None] - _positions(c)[None, :]).argmin(axis=1)

    def snap(self, X: np.ndarray) -> np.ndarray:
        """Rows moved onto values that can be run (through ``from_unit`` / ``to_unit``)."""
        X = np.array(X, dtype=float, copy=True)
        for j, c in enumerate(self.columns):
            if c.kind == "num":
                u = np.clip(X[:, j], 0.0, 1.0)
                if not c.snapped:
                    X[:, j] = u
                    continue
                values = c.dim.from_unit(u)
                X[:, j] = _lookup(c, values)
            elif c.kind == "ordinal":
                X[:, j] = _positions(c)[self._indices(c, X[:, j])]
            else:
                X[:, j] = self._indices(c, X[:, j])
        return X

    def from_cube(self, U: np.ndarray) -> np.ndarray:
        """Encoded, snapped rows from points of the unit cube (e.g. a Sobol design)."""
        X = np.array(U, dtype=float, copy=True)
        for j, c in enumerate(self.columns):
            if c.kind != "num":
                idx = np.minimum((U[:, j] * c.k).astype(int), c.k - 1)
                X[:, j] = _positions(c)[idx] if c.kind == "ordinal" else idx
        return self.snap(X)

    def neighbours(self, x: np.ndarray) -> np.ndarray:
        """Rows differing from ``x`` in one discrete column (nearby levels, or all when few)."""
        rows = []
        for j, levels in self.levels.items():
            if len(levels) <= 16 or self.columns[j].kind == "cat":
                choice = levels
            else:
                pos = int(np.abs(levels - x[j]).argmin())
                choice = levels[max(0, pos - 4) : pos + 5]
            for v in choice:
                if v != x[j]:
                    r = x.copy()
                    r[j] = v
                    rows.append(r)
        return np.array(rows).reshape(-1, self.n_columns)

    @staticmethod
    def key(row: np.ndarray) -> tuple:
        """A hashable identity of an encoded row, for duplicate checks."""
        return tuple(np.round(np.asarray(row, dtype=float), 10).tolist())


def _hashable(v: Any) -> tuple[bool, Any]:
    """``(is a boolean, v)``: a dict key under which ``True`` and ``1`` differ."""
    return (isinstance(v, (bool, np.bool_)), v)


def _lookup(c: _Column, values: list) -> np.ndarray:
    """Unit coordinates of values, from the column's table when it has one."""
    if c.unit_of is not None:
        try:
            return np.array([c.unit_of[_hashable(v)] for v in values], dtype=float)
        except KeyError:
            pass
    return np.asarray(c.dim.to_unit(values), dtype=float)


def _index(values: tuple, v: Any) -> int:
    for i, w in enumerate(values):
        if (isinstance(w, (bool, np.bool_)) == isinstance(v, (bool, np.bool_))) and w == v:
            return i
    raise KeyError(v)


def _positions(column: Any) -> np.ndarray:
    """An ordinal column's positions on the unit interval (set for every ordinal column)."""
    if column.positions is None:  # pragma: no cover (only ordinal columns are asked)
        raise ValueError(f"column {column.name!r} has no ordinal positions")
    return np.asarray(column.positions)
