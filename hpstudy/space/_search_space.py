"""SearchSpace, the ordered set of dimensions an optimizer searches."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from hpstudy.errors import ConfigError, did_you_mean
from hpstudy.space._base import MAX_GRID, Dimension, plain, short
from hpstudy.space._categorical import Categorical
from hpstudy.space._constant import Constant
from hpstudy.space._distributions import Beta, LogNormal, Normal
from hpstudy.space._numeric import Integer, Real

__all__ = [
    "Beta",
    "Categorical",
    "Constant",
    "Dimension",
    "Integer",
    "LogNormal",
    "Normal",
    "Real",
    "SearchSpace",
]


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    seed = plain(seed)
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed: must be None, an integer >= 0 or a numpy Generator "
                          f"(got {short(seed)})")
    return np.random.default_rng(seed)


class SearchSpace:
    """An ordered mapping of flat parameter names to dimensions.

    Dots in a name are literal (``"optimizer.config.lr"`` is one name, as in a W&B
    file); a nested mapping makes a group, as W&B's nested ``parameters:`` do. A
    group member's flat name joins the keys with dots (``"optimizer.lr"``), and
    :meth:`nest` rebuilds the nested dict the objective receives.

    Parameters
    ----------
    dimensions : mapping of str to Dimension (or to a nested mapping: a group)
        At least one parameter. Keys are non-empty strings without empty dotted
        parts; two parameters cannot share a flat name. Order is kept.

    Examples
    --------
    >>> space = SearchSpace({"lr": Real(1e-5, 1e-3, log=True), "opt": Categorical(["adam", "sgd"])})
    >>> space.names
    ('lr', 'opt')
    >>> space.sample(2, seed=0)
    [{'lr': 0.00018789852661499492, 'opt': 'adam'}, {'lr': 3.463964459891803e-05, 'opt': 'adam'}]
    >>> space.to_unit([{"lr": 1e-4, "opt": "sgd"}]).round(3).tolist()
    [[0.5, 0.75]]
    >>> SearchSpace({"opt": {"lr": Real(0, 1)}, "opt.name": Constant("adam")}).paths
    {'opt.lr': ('opt', 'lr'), 'opt.name': ('opt.name',)}
    """

    __slots__ = ("_dims", "_paths")

    def __init__(self, dimensions: Mapping[str, Any]) -> None:
        if not isinstance(dimensions, Mapping):
            raise ConfigError(f"dimensions: must be a mapping of names to dimensions "
                              f"(got {type(dimensions).__name__})")
        dims: dict[str, Dimension] = {}
        paths: dict[str, tuple[str, ...]] = {}
        _flatten(dimensions, (), dims, paths)
        self._dims = dims
        self._paths = paths

    # -- mapping protocol ------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names, in declared order."""
        return tuple(self._dims)

    def __getitem__(self, name: str) -> Dimension:
        try:
            return self._dims[name]
        except (KeyError, TypeError):
            raise ConfigError(f"{short(name)}: unknown parameter"
                              f"{did_you_mean(str(name), self._dims)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._dims)

    def __len__(self) -> int:
        return len(self._dims)

    def __contains__(self, name: object) -> bool:
        return name in self._dims

    @property
    def paths(self) -> dict[str, tuple[str, ...]]:
        """Each name's key path: ``("opt", "lr")`` for a group member, ``(name,)`` otherwise."""
        return dict(self._paths)

    def items(self) -> list[tuple[str, Dimension]]:
        """``(name, dimension)`` pairs in declared order.

        Returns
        -------
        list of tuple
        """
        return list(self._dims.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SearchSpace):
            return NotImplemented
        return self.items() == other.items() and self._paths == other._paths

    def __hash__(self) -> int:
        return hash(tuple((self._paths[n], hash(d)) for n, d in self._dims.items()))

    def __repr__(self) -> str:
        return f"SearchSpace({_nested_repr(self._tree(lambda dim: dim))})"

    def __getstate__(self) -> dict[str, Any]:
        return {"dims": self._dims, "paths": self._paths}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._dims = state["dims"]
        self._paths = state.get("paths") or {name: (name,) for name in self._dims}

    # -- sampling and grids ----------------------------------------------------
    @property
    def is_continuous(self) -> bool:
        """True when some dimension cannot be enumerated (so :meth:`grid` raises)."""
        return any(d.is_continuous for d in self._dims.values())

    def sample(self, n: int, *, seed: None | int | np.random.Generator = None) -> list[dict]:
        """Draw ``n`` parameter dicts, each dimension from its own distribution.

        Parameters
        ----------
        n : int
            How many (>= 0).
        seed : None, int or numpy.random.Generator
            The randomness: a Generator is used as is, an int seeds a new one.

        Returns
        -------
        list of dict
        """
        rng = _rng(seed)
        columns = [dim.sample(rng, n) for dim in self._dims.values()]
        if not columns:  # pragma: no cover - a space has at least one dimension
            return []
        return [dict(zip(self._dims, row, strict=True)) for row in zip(*columns, strict=True)]

    def grid(self) -> list[dict]:
        """Every combination, in the order of W&B's grid search.

        As the W&B engine does: the parameters in sorted key-path order (each
        level's keys sorted, a group's members where the group's key sorts), the
        last one varying fastest; each dimension's values in its written order
        (:meth:`Categorical.grid <hpstudy.space.Categorical.grid>`: each distinct
        value once). So the first ``n`` points are the ``n`` runs W&B would start.

        Returns
        -------
        list of dict
            Each in declared name order.

        Raises
        ------
        ConfigError
            Naming every continuous parameter, or when the grid exceeds one million points.
        """
        continuous = [n for n, d in self._dims.items() if d.is_continuous]
        if continuous:
            raise ConfigError(f"grid: cannot enumerate continuous parameter(s) "
                              f"{', '.join(continuous)}; use categorical, constant, int_uniform "
                              f"or q_uniform for grid search")
        order = sorted(self._dims, key=self._paths.__getitem__)
        axes = [self._dims[n].grid() for n in order]
        size = math.prod(len(a) for a in axes)
        if size > MAX_GRID:
            raise ConfigError(f"grid: {size} combinations exceeds the limit of {MAX_GRID}")
        out = []
        for combo in itertools.product(*axes):
            point = dict(zip(order, combo, strict=True))
            out.append({name: point[name] for name in self._dims})
        return out

    def grid_size(self) -> int:
        """The number of grid points (without building them).

        Returns
        -------
        int

        Raises
        ------
        ConfigError
            If some dimension is continuous.
        """
        continuous = [n for n, d in self._dims.items() if d.is_continuous]
        if continuous:
            raise ConfigError(f"grid: cannot enumerate continuous parameter(s) "
                              f"{', '.join(continuous)}")
        return math.prod(_grid_len(d) for d in self._dims.values())

    # -- unit cube -------------------------------------------------------------
    def to_unit(self, params: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Map parameter dicts to the unit cube, one column per dimension.

        Parameters
        ----------
        params : sequence of dict
            Valid parameter dicts (flat names).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(params), len(self))``.
        """
        if isinstance(params, Mapping) or not isinstance(params, Sequence):
            raise ConfigError("params: must be a sequence of parameter dicts")
        rows = [self.validate(p) for p in params]
        out = np.empty((len(rows), len(self._dims)))
        for j, (name, dim) in enumerate(self._dims.items()):
            out[:, j] = dim.to_unit([r[name] for r in rows]) if rows else []
        return out

    def from_unit(self, U: Any) -> list[dict]:  # noqa: N803 (a matrix)
        """Map unit-cube points back to parameter dicts.

        Parameters
        ----------
        U : array_like
            Shape ``(n, len(self))``, values in [0, 1].

        Returns
        -------
        list of dict
        """
        try:
            arr = np.asarray(U, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError("U: must be an (n, d) array of numbers in [0, 1]") from None
        if arr.ndim != 2 or arr.shape[1] != len(self._dims):
            raise ConfigError(f"U: must have shape (n, {len(self._dims)}) (got {arr.shape})")
        columns = [dim.from_unit(arr[:, j]) for j, dim in enumerate(self._dims.values())]
        return [dict(zip(self._dims, row, strict=True)) for row in zip(*columns, strict=True)]

    # -- validation ------------------------------------------------------------
    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a parameter dict and return it in declared order, values canonical.

        Parameters
        ----------
        params : dict
            Flat names to values; every parameter, no others.

        Returns
        -------
        dict

        Raises
        ------
        ConfigError
            Naming the unknown, missing or out-of-range key.
        """
        if not isinstance(params, Mapping):
            raise ConfigError(f"params: must be a dict (got {type(params).__name__})")
        for key in params:
            if key not in self._dims:
                shown = key if isinstance(key, str) and len(key) <= 100 else short(key)
                raise ConfigError(f"{shown}: unknown parameter{did_you_mean(str(key), self._dims)}")
        missing = [n for n in self._dims if n not in params]
        if missing:
            also = f" (also missing: {', '.join(missing[1:])})" if missing[1:] else ""
            raise ConfigError(f"{missing[0]}: missing parameter{also}")
        return {name: dim.check(params[name], name) for name, dim in self._dims.items()}

    def nest(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Put group members into nested dicts; dotted names stay literal.

        Parameters
        ----------
        params : dict
            Flat names to values (a name not in the space stays as it is).

        Returns
        -------
        dict
            What the objective receives (what W&B passes as ``wandb.config``).

        Examples
        --------
        >>> space = SearchSpace({"opt": {"lr": Real(0, 1)}, "opt.name": Constant("adam")})
        >>> space.nest({"opt.lr": 0.5, "opt.name": "adam"})
        {'opt': {'lr': 0.5}, 'opt.name': 'adam'}
        """
        if not isinstance(params, Mapping):
            raise ConfigError(f"params: must be a dict (got {type(params).__name__})")
        out: dict[str, Any] = {}
        for key, value in params.items():
            parts = self._paths.get(key, (key,))
            node = out
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ConfigError(f"{key}: '{part}' is both a value and a group")
                node = child
            if parts[-1] in node:
                raise ConfigError(f"{key}: '{parts[-1]}' is both a value and a group")
            node[parts[-1]] = value
        return out

    # -- W&B mapping -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The W&B ``parameters:`` mapping: groups as nested ``parameters``, dotted names flat.

        Returns
        -------
        dict
        """
        return self._tree(lambda dim: dim.to_dict(), group=lambda members: {"parameters": members})

    def _tree(self, leaf: Any, group: Any = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, dim in self._dims.items():
            node = out
            path = self._paths[name]
            for part in path[:-1]:
                node = node.setdefault(part, {} if group is None else group({}))
                node = node if group is None else node["parameters"]
            node[path[-1]] = leaf(dim)
        return out


def _flatten(d: Mapping[str, Any], prefix: tuple[str, ...], dims: dict[str, Dimension],
             paths: dict[str, tuple[str, ...]]) -> None:
    """Add the dimensions of ``d`` (nested mappings are groups) under their flat names."""
    where = ".".join(prefix) or "dimensions"
    if not d:
        raise ConfigError(f"{where}: must hold at least one parameter")
    for key, value in d.items():
        if not isinstance(key, str) or not key or any(not p for p in key.split(".")):
            raise ConfigError(f"{where}: names must be non-empty strings without empty "
                              f"dotted parts (got {key!r})")
        path = (*prefix, key)
        name = ".".join(path)
        if isinstance(value, Mapping):
            _flatten(value, path, dims, paths)
            continue
        if not isinstance(value, Dimension):
            raise ConfigError(f"{name}: must be a dimension (Real, Integer, Categorical, "
                              f"...) or a mapping (a group) (got {type(value).__name__})")
        if name in dims:
            raise ConfigError(f"{name}: two parameters have this flat name (key paths "
                              f"{paths[name]} and {path}); rename one")
        dims[name] = value
        paths[name] = path


def _nested_repr(tree: dict[str, Any]) -> str:
    inner = ", ".join(f"{k!r}: {_nested_repr(v) if isinstance(v, dict) else repr(v)}"
                      for k, v in tree.items())
    return f"{{{inner}}}"


def _grid_len(dim: Dimension) -> int:
    if isinstance(dim, Integer):
        return dim.high - dim.low + 1
    if isinstance(dim, Real):
        return math.ceil((float(dim.high) - float(dim.low)) / dim.q)  # type: ignore[operator]
    return len(dim.grid())
