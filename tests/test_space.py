"""Search spaces: construction checks, sampling, grids, unit-cube transforms, validation."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpstudy.errors import ConfigError
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
from hpstudy.sweep import space_from_dict
from tests.strategies import dimensions, params_in, search_spaces, unit_rows

PROP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _space() -> SearchSpace:
    return SearchSpace({
        "lr": Real(1e-5, 1e-3, log=True),
        "dropout": Real(0.2, 0.7),
        "batch_size": Categorical([64, 16, 32]),
        "optimizer": Categorical(["adam", "rmsprop", "sgd"]),
        "layers": Integer(0, 50),
        "seed": Constant(7),
    })


# -- construction ------------------------------------------------------------------
@pytest.mark.parametrize(("make", "message"), [
    (lambda: Real(1, 1), "low: must be < high (got low=1, high=1)"),
    (lambda: Real(2, 1), "low: must be < high"),
    (lambda: Real(0, 1, log=True), "low: must be > 0 when log=True (got 0)"),
    (lambda: Real(math.nan, 1), "low: must be a finite number (got nan)"),
    (lambda: Real(0, math.inf), "high: must be a finite number (got inf)"),
    (lambda: Real(True, 2), "low: must be a number (got True)"),
    (lambda: Real("0", 1), "low: must be a number (got '0')"),
    (lambda: Real(0, 10**400), "high: must be a finite number"),
    (lambda: Real(-1e308, 1e308), "high - low must be finite"),
    (lambda: Real(0, 1, q=0), "q: must be > 0 (got 0)"),
    (lambda: Real(0, 1, q=-0.5), "q: must be > 0"),
    (lambda: Real(0, 1, log=1), "log: must be True or False (got 1)"),
    (lambda: Real(0, 1e10, q=1e-10), "q: too small"),
    (lambda: Integer(0, 0), "low: must be < high"),
    (lambda: Integer(0.5, 3), "low: must be an integer (got 0.5)"),
    (lambda: Integer(0, 10, log=True), "low: must be >= 1 when log=True (got 0)"),
    (lambda: Integer(0, 2**60), "high: must be between -2**53 and 2**53"),
    (lambda: Categorical([]), "values: must not be empty"),
    (lambda: Categorical("abc"), "values: must be a list (got str)"),
    (lambda: Categorical([1.0, math.nan]), "values[1]: must not be NaN"),
    (lambda: Categorical([1, 2], probabilities=[0.5]),
     "probabilities: must have one entry per value (2) (got 1)"),
    (lambda: Categorical([1, 2], probabilities=[0.5, 0.6]),
     "probabilities: must sum to 1 within 1e-5 (got 1.1"),
    (lambda: Categorical([1, 2], probabilities=[-0.5, 1.5]),
     "probabilities[0]: must be >= 0 (got -0.5)"),
    (lambda: Categorical([1, 2], probabilities=[True, 0]),
     "probabilities[0]: must be a number (got True)"),
    (lambda: Categorical([1, 2], ordered="yes"), "ordered: must be True or False"),
    (lambda: Constant(math.nan), "value: must not be NaN"),
    (lambda: Normal(0, 0), "sigma: must be > 0 (got 0)"),
    (lambda: Normal(math.inf, 1), "mu: must be a finite number"),
    (lambda: Normal(1e308, 1e308), "quantiles overflow"),
    (lambda: LogNormal(0, -1), "sigma: must be > 0"),
    (lambda: LogNormal(700, 10), "quantiles overflow"),
    (lambda: Beta(0, 1), "a: must be > 0 (got 0)"),
    (lambda: Beta(1, -2), "b: must be > 0"),
    (lambda: Normal(0, 1, q=0), "q: must be > 0"),
])
def test_constructors_reject_bad_input(make, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()
    assert message in str(info.value)


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Real(1, 0)


def test_dimensions_are_frozen_and_comparable() -> None:
    r = Real(0, 1)
    with pytest.raises(AttributeError):
        r.low = 5  # type: ignore[misc]
    assert Real(0, 1) == Real(0.0, 1.0)
    assert Real(0, 1) != Real(0, 1, q=0.5)
    assert Categorical([3, 1, 2]).values == Categorical([1, 2, 3]).values
    assert Categorical([3, 1, 2]) != Categorical([1, 2, 3])  # W&B's grid visits them in order
    assert Categorical([3, 1, 2]) == Categorical([3.0, 1, 2])
    assert Categorical([True, False]) != Categorical([1, 0])
    assert Constant(1) != Constant(True)
    assert hash(Categorical([[1], [2]])) == hash(Categorical([[1], [2]]))
    assert isinstance(r, Dimension)


def test_kinds_and_continuity() -> None:
    assert [d.kind for d in (Real(0, 1), Integer(0, 1), Categorical(["a"]), Constant(1),
                             Normal(), LogNormal(), Beta())] == [
        "real", "integer", "categorical", "constant", "real", "real", "real"]
    assert Real(0, 1).is_continuous and not Real(0, 1, q=0.1).is_continuous
    assert Real(1, 10, log=True, q=1).is_continuous  # W&B's grid refuses q_log_uniform
    assert Normal(q=1).is_continuous


# -- categorical ordering ------------------------------------------------------------
def test_categorical_numbers_sort_and_are_ordered() -> None:
    c = Categorical([64, 16, 32], probabilities=[0.5, 0.2, 0.3])
    assert c.values == (16, 32, 64)
    assert c.probabilities == (0.2, 0.3, 0.5)
    assert c.is_ordered and c.ordered is None


def test_categorical_strings_keep_order_and_are_nominal() -> None:
    c = Categorical(["sgd", "adam"])
    assert c.values == ("sgd", "adam") and not c.is_ordered
    assert Categorical(["low", "mid", "high"], ordered=True).is_ordered
    assert Categorical([3, 1], ordered=False).values == (3, 1)


def test_categorical_bools_are_not_numbers() -> None:
    c = Categorical([True, False, 1])
    assert not c.is_ordered
    assert c.check(1) == 1 and c.check(True) is True
    assert c.index(1) == 2


# -- sampling ------------------------------------------------------------------------
def test_sample_is_reproducible_and_typed() -> None:
    space = _space()
    a, b = space.sample(50, seed=3), space.sample(50, seed=3)
    assert a == b and a != space.sample(50, seed=4)
    rng = np.random.default_rng(3)
    assert space.sample(50, seed=rng) == a
    for p in a:
        assert list(p) == list(space.names)
        assert type(p["lr"]) is float and 1e-5 <= p["lr"] <= 1e-3
        assert type(p["layers"]) is int and 0 <= p["layers"] <= 50
        assert p["batch_size"] in (16, 32, 64) and p["seed"] == 7
        assert space.validate(p) == p


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True])
def test_sample_rejects_bad_seed(seed) -> None:
    with pytest.raises(ConfigError, match="seed:"):
        _space().sample(1, seed=seed)


@pytest.mark.parametrize("n", [-1, 1.0, True, None])
def test_sample_rejects_bad_n(n) -> None:
    with pytest.raises(ConfigError, match=r"n: must be (an integer \(got|>= 0 \(got -1\))"):
        _space().sample(n, seed=0)


def test_sample_zero() -> None:
    assert _space().sample(0, seed=0) == []


def test_quantised_reals_follow_wandb() -> None:
    rng = np.random.default_rng(0)
    ints = Real(0, 10, q=1).sample(rng, 200)
    assert all(type(v) is int for v in ints) and set(ints) == set(range(11))
    floats = Real(0, 1, q=0.1).sample(rng, 200)
    assert all(type(v) is float for v in floats)
    assert set(floats) <= {round(0.1 * k, 10) for k in range(11)}
    # round(x / q) * q: the end bins are half as wide, as in W&B
    counts = np.bincount(Real(0, 2, q=1).sample(rng, 40_000), minlength=3) / 40_000
    assert counts == pytest.approx([0.25, 0.5, 0.25], abs=0.015)


def test_integer_is_uniform_over_inclusive_range() -> None:
    counts = np.bincount(Integer(1, 4).sample(np.random.default_rng(1), 40_000))[1:] / 40_000
    assert counts == pytest.approx([0.25] * 4, abs=0.012)


def test_log_integer_gives_each_integer_its_log_bin() -> None:
    sample = Integer(1, 3, log=True).sample(np.random.default_rng(2), 60_000)
    edges = np.log([0.5, 1.5, 2.5, 3.5])
    expected = np.diff(edges) / (edges[-1] - edges[0])
    observed = np.bincount(sample, minlength=4)[1:] / 60_000
    assert observed == pytest.approx(expected, abs=0.01)


# -- grid ---------------------------------------------------------------------------
def test_grid_is_cartesian_first_name_slowest() -> None:
    space = SearchSpace({"a": Categorical(["x", "y"]), "b": Integer(1, 3), "c": Constant(0)})
    assert space.grid() == [
        {"a": "x", "b": 1, "c": 0}, {"a": "x", "b": 2, "c": 0}, {"a": "x", "b": 3, "c": 0},
        {"a": "y", "b": 1, "c": 0}, {"a": "y", "b": 2, "c": 0}, {"a": "y", "b": 3, "c": 0},
    ]
    assert space.grid_size() == 6


def test_grid_expands_q_uniform_like_wandb() -> None:
    # W&B's grid: numpy.arange(min, max, q), max excluded
    assert Real(0, 1, q=0.25).grid() == [0.0, 0.25, 0.5, 0.75]
    assert Real(0, 10, q=2).grid() == [0, 2, 4, 6, 8]
    assert Real(0.15, 0.5, q=0.1).grid() == [0.15, 0.25, 0.35, 0.45]
    assert Real(0.0, 1.0, q=0.1).grid() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    for v in Real(0.15, 0.5, q=0.1).grid():
        assert Real(0.15, 0.5, q=0.1).contains(v)


def test_grid_refuses_continuous_dimensions_naming_them() -> None:
    space = SearchSpace({"a": Real(0, 1), "b": Categorical([1]), "c": Normal()})
    with pytest.raises(ConfigError, match=r"continuous parameter\(s\) a, c"):
        space.grid()
    with pytest.raises(ConfigError, match="cannot be enumerated"):
        Real(1, 10, log=True, q=1).grid()


def test_grid_refuses_huge_grids() -> None:
    with pytest.raises(ConfigError, match="exceeds the limit"):
        SearchSpace({"a": Integer(0, 2000), "b": Integer(0, 2000)}).grid()


# -- unit cube ----------------------------------------------------------------------
def test_unit_transform_known_values() -> None:
    assert Real(0, 10).to_unit([2.5]) == pytest.approx([0.25])
    assert Real(1e-4, 1e-2, log=True).to_unit([1e-3]) == pytest.approx([0.5])
    assert Integer(0, 3).to_unit([0, 3]) == pytest.approx([0.125, 0.875])
    assert Categorical(["a", "b", "c", "d"]).to_unit(["c"]) == pytest.approx([0.625])
    assert Constant("z").to_unit(["z"]) == pytest.approx([0.5])
    assert Normal(1, 2).to_unit([1.0]) == pytest.approx([0.5])
    assert Normal(0, 1).to_unit([1.959963984540054]) == pytest.approx([0.975])
    assert LogNormal(0, 1).to_unit([1.0]) == pytest.approx([0.5])
    assert Beta(2, 2).to_unit([0.5]) == pytest.approx([0.5])
    assert Normal().from_unit([0.0, 1.0]) == pytest.approx([-7.034483825, 7.034483825])


def test_unbounded_distributions_map_into_open_interval() -> None:
    u = Normal().to_unit([-1e6, 0.0, 1e6])
    assert np.all((u > 0) & (u < 1))
    assert np.all(np.isfinite(LogNormal(0, 1).from_unit([0.0, 1.0])))


@PROP
@given(st.data())
def test_from_unit_to_unit_round_trip(data) -> None:
    dim = data.draw(dimensions())
    u = data.draw(st.lists(st.floats(0, 1), min_size=1, max_size=5))
    values = dim.from_unit(u)
    assert all(dim.contains(v) for v in values), (dim, values)
    back = dim.from_unit(dim.to_unit(values))
    if dim.is_continuous and dim.kind == "real" and getattr(dim, "q", None) is None:
        assert back == pytest.approx(values, rel=1e-6, abs=1e-9)
    else:
        assert back == values, (dim, values, back)
    unit = dim.to_unit(values)
    assert np.all((unit >= 0) & (unit <= 1))


@PROP
@given(st.data())
def test_space_round_trip_and_validate(data) -> None:
    space = data.draw(search_spaces())
    params = data.draw(params_in(space))
    assert space.validate(params) == params
    U = space.to_unit([params])
    assert U.shape == (1, len(space))
    again = space.from_unit(U)[0]
    for name, dim in space.items():
        if dim.kind == "real" and getattr(dim, "q", None) is None:
            assert again[name] == pytest.approx(params[name], rel=1e-6, abs=1e-9)
        else:
            assert again[name] == params[name]


@PROP
@given(search_spaces(), st.integers(0, 2**32))
def test_samples_are_valid(space, seed) -> None:
    for p in space.sample(5, seed=seed):
        space.validate(p)


@given(unit_rows(2, 3))
def test_from_unit_rejects_wrong_shape(U) -> None:
    with pytest.raises(ConfigError, match="shape"):
        _space().from_unit(U)


@pytest.mark.parametrize("U", [[[0.5] * 6, [1.5] * 6], [[math.nan] * 6], [["a"] * 6]])
def test_from_unit_rejects_values_outside_the_cube(U) -> None:
    with pytest.raises(ConfigError):
        _space().from_unit(U)


# -- validation ---------------------------------------------------------------------
def test_validate_names_unknown_missing_and_out_of_range() -> None:
    space = _space()
    good = space.sample(1, seed=0)[0]
    with pytest.raises(ConfigError, match=r"lrr: unknown parameter \(did you mean 'lr'\?\)"):
        space.validate({**good, "lrr": 1})
    without = {k: v for k, v in good.items() if k != "dropout"}
    with pytest.raises(ConfigError, match="dropout: missing parameter"):
        space.validate(without)
    with pytest.raises(ConfigError, match=r"dropout: must be in \[0.2, 0.7\] \(got 0.9\)"):
        space.validate({**good, "dropout": 0.9})
    with pytest.raises(ConfigError, match="optimizer: must be one of"):
        space.validate({**good, "optimizer": "adamw"})
    with pytest.raises(ConfigError, match="layers: must be an integer"):
        space.validate({**good, "layers": 2.5})
    with pytest.raises(ConfigError, match="params: must be a dict"):
        space.validate([good])


def test_validate_returns_canonical_values_in_declared_order() -> None:
    space = _space()
    p = space.sample(1, seed=0)[0]
    shuffled = dict(reversed(list({**p, "layers": float(p["layers"]),
                                   "batch_size": np.int64(p["batch_size"])}.items())))
    out = space.validate(shuffled)
    assert list(out) == list(space.names)
    assert type(out["layers"]) is int and type(out["batch_size"]) is int


def test_contains() -> None:
    assert Real(0, 1, q=0.1).contains(0.3) and not Real(0, 1, q=0.1).contains(0.33)
    assert not Real(0, 1).contains(True) and not Real(0, 1).contains(math.nan)
    assert LogNormal().contains(0.1) and not LogNormal().contains(0.0)
    assert Beta().contains(0.0) and not Beta().contains(1.1)
    assert Integer(1, 3).contains(3) and not Integer(1, 3).contains(4)


# -- space structure ----------------------------------------------------------------
def test_space_mapping_protocol() -> None:
    space = _space()
    assert space.names == tuple(space) and len(space) == 6
    assert space["lr"] == Real(1e-5, 1e-3, log=True)
    assert [n for n, _ in space.items()] == list(space.names)
    with pytest.raises(ConfigError, match="unknown parameter"):
        space["nope"]
    assert pickle.loads(pickle.dumps(space)) == space
    assert space != SearchSpace(dict(reversed(space.items())))
    assert hash(space) == hash(_space())


@pytest.mark.parametrize(("dims", "message"), [
    ({}, "at least one"),
    ([("a", Real(0, 1))], "must be a mapping"),
    ({"": Real(0, 1)}, "non-empty strings"),
    ({"a..b": Real(0, 1)}, "non-empty strings"),
    ({1: Real(0, 1)}, "non-empty strings"),
    ({"a": (0, 1)}, "a: must be a dimension"),
    ({"a": {"b": Real(0, 1)}, "a.b": Real(0, 1)}, "a.b: two parameters have this flat name"),
    ({"a": {}}, "a: must hold at least one parameter"),
    ({"a": {"b": 1}}, "a.b: must be a dimension"),
])
def test_space_rejects_bad_dimensions(dims, message) -> None:
    with pytest.raises(ConfigError, match=message):
        SearchSpace(dims)


def test_nest() -> None:
    space = SearchSpace({"opt": {"lr": Real(0, 1), "name": Constant("adam")}, "bs": Integer(1, 2)})
    assert space.names == ("opt.lr", "opt.name", "bs")
    assert space.nest({"opt.lr": 0.5, "opt.name": "adam", "bs": 1}) == {
        "opt": {"lr": 0.5, "name": "adam"}, "bs": 1}
    assert space.nest({"a": 1, "a.b": 2}) == {"a": 1, "a.b": 2}  # unknown names stay literal


def test_dotted_names_are_literal_beside_their_prefix() -> None:
    # the Hydra pattern: W&B passes both names as they are (--optimizer=adam
    # --optimizer.config.lr=0.1 through ${args})
    space = SearchSpace({"optimizer": Constant("adam"), "optimizer.config.lr": Real(0, 1)})
    assert space.paths == {"optimizer": ("optimizer",),
                           "optimizer.config.lr": ("optimizer.config.lr",)}
    params = {"optimizer": "adam", "optimizer.config.lr": 0.5}
    assert space.nest(params) == params
    assert space.to_dict() == {"optimizer": {"value": "adam"},
                               "optimizer.config.lr": {"distribution": "uniform", "min": 0,
                                                       "max": 1}}
    assert space_from_dict(space.to_dict()) == space
    nested = SearchSpace({"optimizer": {"config": {"lr": Real(0, 1)}}})
    assert nested.names == space.names[1:] and nested != SearchSpace({"optimizer.config.lr":
                                                                       Real(0, 1)})
    assert pickle.loads(pickle.dumps(nested)) == nested


def test_to_dict_nests_groups() -> None:
    space = SearchSpace({"opt": {"lr": Real(1e-4, 1e-2, log=True), "kind": Categorical(["a"])},
                         "n": Integer(1, 5, log=True)})
    assert space.to_dict() == {
        "opt": {"parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
            "kind": {"values": ["a"]}}},
        "n": {"distribution": "int_log_uniform_values", "min": 1, "max": 5},
    }
    assert space_from_dict(space.to_dict()) == space


@PROP
@given(search_spaces())
def test_to_dict_from_dict_round_trip(space) -> None:
    assert space_from_dict(space.to_dict()) == space
