"""W&B files run unchanged: hpstudy follows W&B's sweeps engine (``wandb/sweeps``).

Each test names the engine file and behaviour it follows:
``src/sweeps/params.py`` (``HyperParameterSet.from_config``: sorted keys, nesting only
through ``parameters:``; ``HyperParameter.ppf``: each entry drawn with probability
1/len; ``PARAM_DEPRECATION_MAP``), ``src/sweeps/grid_search.py`` (product in sorted
name order, each list in written order, a repeated value visited once; probabilities
refused), ``src/sweeps/config/schema.py`` (``validate_categorical_prob``:
``numpy.isclose``; Draft 7 ``integer`` accepts ``10.0``) and
``src/sweeps/hyperband_stopping.py`` (hyperband requires ``metric``).
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpstudy.errors import ConfigError
from hpstudy.optimizers import GridSearch
from hpstudy.space import Categorical, Constant, Real, SearchSpace
from hpstudy.sweep import Sweep, SweepDeprecationWarning
from hpstudy.trials import Trials

# W&B's own Hydra example: a config group and a dotted override beside it
HYDRA = """
program: main.py
method: random
metric: {name: val_loss, goal: minimize}
parameters:
  optimizer:
    values: [adam, sgd]
  optimizer.config.learning_rate:
    distribution: log_uniform_values
    min: 1.0e-5
    max: 1.0e-2
  trainer.max_epochs:
    value: 10
command:
  - ${env}
  - python
  - ${program}
  - ${args_no_hyphens}
"""


def _sweep(parameters: dict, **top) -> Sweep:
    return Sweep.from_dict({"method": "random", "parameters": parameters, **top})


# -- dotted names --------------------------------------------------------------------
def test_hydra_dotted_name_beside_its_prefix_runs_and_stays_literal() -> None:
    sweep = Sweep.from_text(HYDRA)
    assert sweep.space.names == ("optimizer", "optimizer.config.learning_rate",
                                 "trainer.max_epochs")
    params = sweep.space.sample(1, seed=0)[0]
    # what the objective receives is what W&B passes through ${args}: flat names
    assert sweep.space.nest(params) == params
    written = sweep.to_dict()["parameters"]
    assert list(written) == ["optimizer", "optimizer.config.learning_rate",
                             "trainer.max_epochs"]
    assert "parameters" not in written["trainer.max_epochs"]
    assert Sweep.from_text(sweep.to_yaml()) == sweep


def test_a_lone_dotted_name_is_written_back_flat() -> None:
    sweep = _sweep({"trainer.max_epochs": {"value": 10}, "lr": {"values": [0.1, 0.01]}})
    assert sweep.to_dict()["parameters"] == {"trainer.max_epochs": {"value": 10},
                                             "lr": {"values": [0.1, 0.01]}}
    assert "\n  trainer.max_epochs:\n    value: 10\n" in sweep.to_yaml()
    assert sweep.space.nest({"trainer.max_epochs": 10, "lr": 0.1}) == {
        "trainer.max_epochs": 10, "lr": 0.1}


def test_nested_parameters_still_nest_and_mix_with_literal_dots() -> None:
    sweep = _sweep({"opt": {"parameters": {"lr": {"value": 0.1}, "x.y": {"value": 2}}},
                    "opt.name": {"value": "adam"}})
    assert sweep.space.paths == {"opt.lr": ("opt", "lr"), "opt.x.y": ("opt", "x.y"),
                                 "opt.name": ("opt.name",)}
    params = sweep.space.sample(1, seed=0)[0]
    assert sweep.space.nest(params) == {"opt": {"lr": 0.1, "x.y": 2}, "opt.name": "adam"}
    assert Sweep.from_dict(sweep.to_dict()) == sweep


# -- repeated values -----------------------------------------------------------------
def test_repeated_values_weigh_per_entry_and_grid_visits_each_once() -> None:
    sweep = _sweep({"act": {"values": ["relu", "tanh", "relu", "relu"]}})
    dim = sweep.space["act"]
    counts = Counter(dim.sample(np.random.default_rng(0), 40_000))
    assert counts["relu"] / 40_000 == pytest.approx(0.75, abs=0.01)  # 3 of 4 entries
    assert dim.grid() == ["relu", "tanh"]
    assert sweep.to_dict()["parameters"]["act"] == {"values": ["relu", "tanh", "relu", "relu"]}
    grid = Sweep.from_dict({"method": "grid", "parameters": {
        "a": {"values": [2, 1, 2, 1.0]}, "b": {"value": 0}}})
    assert [p["a"] for p in grid.space.grid()] == [2, 1]  # 1 and 1.0 are one value, as in W&B
    assert _sweep({"b": {"values": [True, 1, True]}}).space["b"].grid() == [True, 1]


def test_repeated_values_with_probabilities_add_up() -> None:
    dim = _sweep({"a": {"values": ["x", "y", "x"], "probabilities": [0.2, 0.5, 0.3]}}).space["a"]
    assert dim.probabilities == pytest.approx((0.5, 0.5))
    counts = Counter(dim.sample(np.random.default_rng(1), 40_000))
    assert counts["x"] / 40_000 == pytest.approx(0.5, abs=0.01)


# -- tolerances and integral floats ---------------------------------------------------
def test_probabilities_use_the_engines_tolerance() -> None:
    dim = _sweep({"a": {"values": [1, 2, 3], "probabilities": [0.33333] * 3}}).space["a"]
    assert dim.entry_probabilities == (0.33333,) * 3
    with pytest.raises(ConfigError, match=r"parameters\.a\.probabilities: must sum to 1 within"):
        _sweep({"a": {"values": [1, 2, 3], "probabilities": [0.3333] * 3}})


def test_integral_floats_count_as_integers() -> None:
    sweep = _sweep({"a": {"value": 1}}, run_cap=10.0, metric={"name": "loss"},
                   early_terminate={"type": "hyperband", "max_iter": 27.0, "s": 2.0})
    assert sweep.run_cap == 10 and type(sweep.run_cap) is int
    et = sweep.early_terminate
    assert (et.max_iter, et.s) == (27, 2) and type(et.max_iter) is int
    with pytest.raises(ConfigError, match="run_cap: must be an integer"):
        _sweep({"a": {"value": 1}}, run_cap=10.5)


# -- what W&B refuses -----------------------------------------------------------------
def test_grid_refuses_probabilities() -> None:
    with pytest.raises(ConfigError, match=r"parameters\.a\.probabilities: not allowed with "
                                          r"method grid"):
        Sweep.from_dict({"method": "grid", "parameters": {
            "a": {"values": ["x", "y"], "probabilities": [0.9, 0.1]}}})


def test_early_terminate_needs_a_metric() -> None:
    with pytest.raises(ConfigError, match="early_terminate: needs a metric"):
        _sweep({"a": {"value": 1}}, early_terminate={"type": "hyperband", "min_iter": 3})


# -- grid order ----------------------------------------------------------------------
ENGINE_GRID = {"method": "grid", "parameters": {
    "zeta": {"values": [3, 1, 2]},
    "a-x": {"values": ["p", "q"]},
    "a": {"parameters": {"z": {"values": [True, False]}, "c": {"values": [10, 5]}}},
    "optimizer": {"value": "adam"},
    "optimizer.config.lr": {"values": [0.1, 0.01, 0.1]},
}}
# the engine's first runs for ENGINE_GRID (sweeps 0.3.0, grid_search_next_runs):
# sorted key paths a/c, a/z, a-x, optimizer, optimizer.config.lr, zeta; zeta fastest
ENGINE_FIRST = [("a.c", "a.z", "a-x", "optimizer.config.lr", "zeta"),
                (10, True, "p", 0.1, 3), (10, True, "p", 0.1, 1), (10, True, "p", 0.1, 2),
                (10, True, "p", 0.01, 3), (10, True, "p", 0.01, 1), (10, True, "p", 0.01, 2),
                (10, True, "q", 0.1, 3)]


def test_grid_enumerates_like_the_engine() -> None:
    sweep = Sweep.from_dict(ENGINE_GRID)
    names, *expected = ENGINE_FIRST
    grid = sweep.space.grid()
    assert [tuple(p[n] for n in names) for p in grid[:len(expected)]] == expected
    assert len(grid) == 3 * 2 * 2 * 2 * 2
    assert list(grid[0]) == list(sweep.space.names)  # points keep the declared order
    # --trials 4 runs the engine's first 4 points
    asked = GridSearch().ask(sweep.space, Trials(), 4, np.random.default_rng(0))
    assert asked == grid[:4]


def test_grid_order_is_sorted_by_key_path() -> None:
    # declared zeta, m, alpha; the engine enumerates alpha, m/c, m/z, zeta (zeta fastest)
    sweep = Sweep.from_dict({"method": "grid", "parameters": {
        "zeta": {"values": ["z1", "z2"]}, "m": {"parameters": {
            "z": {"values": ["mz1", "mz2"]}, "c": {"values": ["mc1", "mc2"]}}},
        "alpha": {"values": ["a1", "a2"]}}})
    grid = sweep.space.grid()
    assert [tuple(p.values()) for p in grid[:3]] == [
        ("z1", "mz1", "mc1", "a1"), ("z2", "mz1", "mc1", "a1"), ("z1", "mz2", "mc1", "a1")]
    assert grid[4] == {"zeta": "z1", "m.z": "mz1", "m.c": "mc2", "alpha": "a1"}
    assert grid[8]["alpha"] == "a2"


def test_grid_keeps_written_order_of_numbers() -> None:
    space = SearchSpace({"b": Categorical([64, 16, 32]), "a": Constant(0)})
    assert [p["b"] for p in space.grid()] == [64, 16, 32]
    assert space["b"].values == (16, 32, 64)  # optimizers still see them sorted


def test_grid_matches_the_engine_side_by_side() -> None:
    sweeps_grid = pytest.importorskip("sweeps.grid_search", reason="W&B's engine not installed")
    runs = sweeps_grid.grid_search_next_runs([], ENGINE_GRID, n=100)
    nest = Sweep.from_dict(ENGINE_GRID).space.nest
    ours = [nest(p) for p in Sweep.from_dict(ENGINE_GRID).space.grid()]
    theirs = [{k: v["value"] for k, v in r.config.items()} for r in runs if r is not None]
    assert ours == theirs


# -- YAML round trip -----------------------------------------------------------------
NUMBERLIKE = st.one_of(
    st.from_regex(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?", fullmatch=True),
    st.from_regex(r"[-+]?\.(inf|Inf|nan|NaN)|0x[0-9a-f]+|0o[0-7]+|[0-9]+:[0-5][0-9]",
                  fullmatch=True),
    st.sampled_from(["4e91357", "1e-3", "1E5", "true", "no", "null", "~", "", " 1", "1_000"]),
    st.text(max_size=12),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NUMBERLIKE)
def test_to_yaml_round_trips_strings_that_look_like_numbers(text: str) -> None:
    sweep = _sweep({"c": {"value": text}, "v": {"values": [text, 1e-3, 7]}})
    back = Sweep.from_text(sweep.to_yaml())
    assert back == sweep
    assert back.space["c"].value == text and type(back.space["c"].value) is str


def test_an_out_of_range_exponent_in_a_file_is_a_string() -> None:
    # go-yaml (W&B's server) reads 4e91357 as a string, never as inf
    sweep = Sweep.from_text("method: random\nparameters:\n  commit: {value: 4e91357}\n")
    assert sweep.space["commit"].value == "4e91357"
    # a real infinity cannot be stored in a study file (JSON has no inf): refused, named
    with pytest.raises(ConfigError, match=r"parameters\.inf\.value: must be a finite number"):
        Sweep.from_text("method: random\nparameters:\n  inf: {value: .inf}\n")


@pytest.mark.parametrize(("dist", "replacement"), [
    ("log_uniform", "log_uniform_values"), ("q_log_uniform", "q_log_uniform_values"),
    ("inv_log_uniform", "inv_log_uniform_values")])
def test_deprecated_exponent_distributions_warn(dist: str, replacement: str) -> None:
    with pytest.warns(SweepDeprecationWarning, match=rf"parameters\.lr: {dist} is deprecated in W&B .* "
                                         rf"use {replacement}"):
        sweep = _sweep({"lr": {"distribution": dist, "min": -5, "max": 0}})
    assert isinstance(sweep.space["lr"], Real)
    assert issubclass(SweepDeprecationWarning, UserWarning)  # shown by default
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _sweep({"lr": {"distribution": replacement, "min": 1e-5, "max": 1.0}})
