"""Fuzz the sweep parser: any input gives a Sweep or a ConfigError, never another error."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpstudy.errors import ConfigError
from hpstudy.sweep import Sweep, space_from_dict
from tests.strategies import json_like, mutated_configs, sweep_configs

# the deprecated exponent forms (log_uniform, ...) are tested here on purpose;
# tests/test_sweep_engine.py checks that they warn
pytestmark = pytest.mark.filterwarnings("ignore::hpstudy.sweep.SweepDeprecationWarning")

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse(value: object) -> Sweep | None:
    try:
        sweep = Sweep.from_dict(value)
    except ConfigError as exc:
        message = str(exc)
        assert message and ":" in message, message  # names a key path, then the rule
        return None
    # whatever parses must round-trip and be usable
    assert Sweep.from_dict(sweep.to_dict()) == sweep
    sweep.space.sample(2, seed=0)
    return sweep


@FUZZ
@given(json_like)
def test_arbitrary_json_like_values(value: object) -> None:
    _parse(value)


@FUZZ
@given(st.fixed_dictionaries({"method": st.sampled_from(["random", "grid", "bayes"]),
                              "metric": st.just({"name": "m"}), "parameters": json_like}))
def test_arbitrary_parameters_section(value: dict) -> None:
    _parse(value)


@FUZZ
@given(st.dictionaries(st.text(max_size=6), json_like, max_size=3))
def test_arbitrary_parameter_specs(specs: dict) -> None:
    try:
        space_from_dict({"p": specs})
    except ConfigError:
        pass


@FUZZ
@given(mutated_configs())
def test_mutated_valid_configs(value: object) -> None:
    _parse(value)


@settings(max_examples=100, deadline=None)
@given(sweep_configs())
def test_valid_configs_parse_and_round_trip(config: dict) -> None:
    sweep = _parse(config)
    assert sweep is not None


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    try:
        Sweep.from_text(text)
    except ConfigError:
        pass


@FUZZ
@given(st.lists(st.sampled_from(["method: ", "grid", "\n", "parameters:", "  x:", " {", "}",
                                 "values: [", "]", "min: ", "1e400", ".nan", "max: ", "!!python/",
                                 "&a ", "*a", "- ", "? ", ": ", "'", '"', "\t", "---"]),
                max_size=40).map("".join))
def test_yaml_like_text(text: str) -> None:
    try:
        Sweep.from_text(text)
    except ConfigError:
        pass


@pytest.mark.parametrize("depth", [10, 40, 200, 5000])
def test_deep_nesting_is_a_config_error(depth: int) -> None:
    node: object = {"x": {"values": [1]}}
    for _ in range(depth):
        node = {"g": {"parameters": node}}
    config = {"method": "random", "parameters": node}
    if depth <= 10:
        assert len(Sweep.from_dict(config).space) == 1
    else:
        with pytest.raises(ConfigError, match="nested deeper"):
            Sweep.from_dict(config)


HOSTILE = ["[" * 20000 + "]" * 20000, "a: " + "{b: " * 5000 + "1" + "}" * 5000, "&a [*a]",
           "x: !!python/object:os.system {}", "\x00", "- - -"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_yaml_text(text: str) -> None:
    with pytest.raises(ConfigError):
        Sweep.from_text(text)


@pytest.mark.parametrize("bad", [10**400, -(10**400), math.nan, math.inf, -math.inf, True, None,
                                 "1", [1], {"a": 1}, 1e308])
@pytest.mark.parametrize("key", ["min", "max"])
@pytest.mark.parametrize("dist", ["uniform", "log_uniform", "log_uniform_values", "int_uniform",
                                  "q_uniform", "inv_log_uniform", "q_log_uniform_values"])
def test_bad_bounds_are_config_errors(bad: object, key: str, dist: str) -> None:
    spec = {"distribution": dist, "min": 1, "max": 2}
    spec[key] = bad
    config = {"method": "random", "parameters": {"p": spec}}
    try:
        Sweep.from_dict(config)
    except ConfigError as exc:
        assert str(exc).startswith("parameters.p"), str(exc)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_from_yaml_on_arbitrary_file_contents(content) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.yaml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        try:
            Sweep.from_yaml(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path))


def test_from_yaml_on_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the sweep file"):
        Sweep.from_yaml(tmp_path)
