"""Shared Hypothesis strategies: dimensions, search spaces, parameters, W&B configs.

Use them in any test module::

    from tests.strategies import search_spaces, params_in
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from hpstudy.space import (
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
    "dimensions",
    "json_like",
    "mutated_configs",
    "names",
    "params_in",
    "search_spaces",
    "sweep_configs",
    "unit_rows",
    "wandb_parameter_specs",
]

names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)

_moderate = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
_positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
_scalars = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
)


@st.composite
def _bounds(draw: Any, positive: bool = False) -> tuple[float, float]:
    low = draw(_positive if positive else _moderate)
    width = draw(st.floats(min_value=1e-3, max_value=1e6, allow_nan=False))
    high = low * (1 + width) if positive else low + width
    return low, high


@st.composite
def reals(draw: Any) -> Real:
    log = draw(st.booleans())
    low, high = draw(_bounds(positive=log))
    q = draw(st.one_of(st.none(), st.sampled_from([0.1, 0.5, 1, 2, 0.25])))
    if q is not None and (high - low) / q > 10_000:
        q = None
    return Real(low, high, log=log, q=q)


@st.composite
def integers(draw: Any) -> Integer:
    log = draw(st.booleans())
    low = draw(st.integers(1 if log else -10_000, 10_000))
    high = draw(st.integers(low + 1, low + 100_000))
    return Integer(low, high, log=log)


@st.composite
def categoricals(draw: Any) -> Categorical:
    kind = draw(st.sampled_from(["num", "str", "mixed"]))
    if kind == "num":
        elems = st.one_of(st.integers(-1000, 1000), st.floats(-1e3, 1e3, allow_nan=False))
    elif kind == "str":
        elems = st.text(max_size=6)
    else:
        elems = _scalars
    values = draw(st.lists(elems, min_size=1, max_size=6, unique_by=lambda v: (type(v), repr(v))))
    uniq: list = []
    for v in values:
        if not any(type(u) is type(v) and u == v for u in uniq) and not (
            isinstance(v, (int, float)) and not isinstance(v, bool)
            and any(isinstance(u, (int, float)) and not isinstance(u, bool) and u == v
                    for u in uniq)
        ):
            uniq.append(v)
    probs = None
    if draw(st.booleans()):
        w = draw(st.lists(st.integers(1, 10), min_size=len(uniq), max_size=len(uniq)))
        probs = [x / sum(w) for x in w]
    return Categorical(uniq, probabilities=probs)


def dimensions() -> st.SearchStrategy[Dimension]:
    """Any valid dimension."""
    return st.one_of(
        reals(),
        integers(),
        categoricals(),
        _scalars.map(Constant),
        st.builds(Normal, _moderate, st.floats(1e-3, 1e3), q=st.sampled_from([None, 0.5, 1])),
        st.builds(LogNormal, st.floats(-5, 5), st.floats(0.05, 2),
                  q=st.sampled_from([None, 0.5, 1])),
        st.builds(Beta, st.floats(0.1, 20), st.floats(0.1, 20), q=st.sampled_from([None, 0.1])),
    )


@st.composite
def search_spaces(draw: Any, max_dims: int = 5) -> SearchSpace:
    """A space of 1..max_dims dimensions, some with dotted names (literal names, not groups)."""
    keys = draw(st.lists(names, min_size=1, max_size=max_dims, unique=True))
    dims = {}
    for k in keys:
        name = f"grp.{k}" if draw(st.booleans()) and k != "grp" else k
        if name == "grp" or (name.startswith("grp.") and "grp" in dims):
            name = k + "_x"
        dims[name] = draw(dimensions())
    return SearchSpace(dims)


def unit_rows(d: int, n: int = 4) -> st.SearchStrategy[np.ndarray]:
    """An (n, d) array of unit-cube points."""
    row = st.lists(st.floats(0, 1, allow_nan=False), min_size=d, max_size=d)
    rows = st.lists(row, min_size=n, max_size=n)
    return rows.map(lambda r: np.array(r, dtype=float).reshape(n, d))


@st.composite
def params_in(draw: Any, space: SearchSpace) -> dict:
    """One valid parameter dict of ``space`` (through ``from_unit``)."""
    return space.from_unit(draw(unit_rows(len(space), 1)))[0]


# ---------------------------------------------------------------------------
# W&B configs
# ---------------------------------------------------------------------------
@st.composite
def wandb_parameter_specs(draw: Any) -> dict:
    """A valid W&B parameter spec, of any distribution, sometimes without 'distribution'."""
    dist = draw(st.sampled_from([
        "constant", "categorical", "int_uniform", "uniform", "q_uniform", "log_uniform",
        "log_uniform_values", "q_log_uniform", "q_log_uniform_values", "inv_log_uniform",
        "inv_log_uniform_values", "normal", "q_normal", "log_normal", "q_log_normal", "beta",
        "q_beta",
    ]))
    explicit = draw(st.booleans())
    spec: dict[str, Any] = {"distribution": dist} if explicit else {}
    if dist == "constant":
        spec["value"] = draw(_scalars)
    elif dist == "categorical":
        spec["values"] = draw(st.lists(st.integers(-50, 50), min_size=1, max_size=5, unique=True))
        if draw(st.booleans()):
            n = len(spec["values"])
            spec["probabilities"] = [1 / n] * n
    elif dist == "int_uniform":
        lo = draw(st.integers(-100, 100))
        spec.update(min=lo, max=lo + draw(st.integers(1, 100)))
    elif dist in ("uniform", "q_uniform"):
        lo = draw(st.floats(-100, 100))
        spec.update(distribution=dist, min=lo, max=lo + draw(st.floats(0.5, 100)))
        if dist == "q_uniform" and draw(st.booleans()):
            spec["q"] = draw(st.sampled_from([0.5, 1, 2]))
    elif dist in ("log_uniform", "q_log_uniform", "inv_log_uniform"):
        lo = draw(st.floats(-10, 5))
        spec.update(distribution=dist, min=lo, max=lo + draw(st.floats(0.1, 5)))
    elif dist.endswith("_values"):
        lo = draw(st.floats(1e-5, 10))
        spec.update(distribution=dist, min=lo, max=lo * draw(st.floats(1.5, 100)))
    elif "normal" in dist:
        spec["distribution"] = dist
        if draw(st.booleans()):
            spec.update(mu=draw(st.floats(-3, 3)), sigma=draw(st.floats(0.1, 2)))
    else:
        spec["distribution"] = dist
        if draw(st.booleans()):
            spec.update(a=draw(st.floats(0.2, 10)), b=draw(st.floats(0.2, 10)))
    if dist.startswith("q_") and "q" not in spec and draw(st.booleans()):
        spec["q"] = draw(st.sampled_from([0.1, 1, 5]))
    if dist == "uniform" and not explicit and all(isinstance(spec[k], int) for k in ("min", "max")):
        spec["min"] = float(spec["min"])
    return spec


@st.composite
def sweep_configs(draw: Any) -> dict:
    """A valid W&B sweep configuration mapping (random or bayes)."""
    params = draw(st.dictionaries(names, wandb_parameter_specs(), min_size=1, max_size=5))
    if draw(st.booleans()):
        params["group"] = {"parameters": draw(
            st.dictionaries(names, wandb_parameter_specs(), min_size=1, max_size=3))}
    config: dict[str, Any] = {
        "method": draw(st.sampled_from(["random", "bayes"])),
        "metric": {"name": "loss", "goal": draw(st.sampled_from(["minimize", "maximize"]))},
        "parameters": params,
    }
    if draw(st.booleans()):
        config["early_terminate"] = {"type": "hyperband", "min_iter": draw(st.integers(1, 5)),
                                     "eta": draw(st.sampled_from([2, 3]))}
    if draw(st.booleans()):
        config["run_cap"] = draw(st.integers(1, 100))
    if draw(st.booleans()):
        config.update(program="train.py", project="p", entity="e", name="n", description="d",
                      command=["${env}", "python", "${program}", "${args}"])
    return config


json_like = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.integers(10**300, 10**400),
        st.floats(), st.text(max_size=12),
        st.sampled_from(["min", "max", "values", "value", "distribution", "parameters", "q",
                         "uniform", "log_uniform_values", "int_uniform", "categorical",
                         "hyperband", "grid", "bayes", "random", "metric", "name", "goal"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(
            ["method", "metric", "parameters", "early_terminate", "run_cap", "min", "max",
             "values", "value", "distribution", "q", "mu", "sigma", "a", "b", "probabilities",
             "type", "min_iter", "max_iter", "s", "eta", "strict", "name", "goal"]),
            st.integers(), st.none(), st.booleans()), children, max_size=4),
    ),
    max_leaves=20,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _set(node: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        copy = dict(node)
        copy[head] = _set(node[head], rest, value)
        return copy
    copy = list(node)
    copy[head] = _set(node[head], rest, value)
    return copy


def _delete(node: Any, path: tuple) -> Any:
    if len(path) == 1:
        if isinstance(node, dict):
            return {k: v for k, v in node.items() if k != path[0]}
        return [v for i, v in enumerate(node) if i != path[0]]
    head = path[0]
    return _set(node, (head,), _delete(node[head], path[1:]))


@st.composite
def mutated_configs(draw: Any) -> Any:
    """A valid sweep config with one to three random mutations (replace, delete, rename)."""
    config = draw(sweep_configs())
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(config)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "rename", "special"]))
        if action == "delete" and path:
            config = _delete(config, path)
        elif action == "rename" and path and isinstance(path[-1], str):
            parent_path, key = path[:-1], path[-1]
            parent = config
            for p in parent_path:
                parent = parent[p]
            new_key = draw(st.one_of(st.text(max_size=6), st.just(key + "s"), st.just(key[:-1])))
            renamed = {(new_key if k == key else k): v for k, v in parent.items()}
            config = _set(config, parent_path, renamed)
        elif action == "special":
            config = _set(config, path, draw(st.sampled_from(
                [math.nan, math.inf, -math.inf, 10**400, -(10**400), True, None, [], {}, "", 0,
                 -1, 1e308, 5e-324, [None], {"parameters": {}}])))
        else:
            config = _set(config, path, draw(json_like))
    return config
