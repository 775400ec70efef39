"""W&B sweep configs: the seed file, every distribution, inference, nesting, errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hpstudy.errors import ConfigError
from hpstudy.space import Beta, Categorical, Constant, Integer, LogNormal, Normal, Real
from hpstudy.sweep import EarlyTerminate, Metric, Sweep, space_from_dict
from hpstudy.trials import Goal

# the deprecated exponent forms (log_uniform, ...) are tested here on purpose;
# tests/test_sweep_engine.py checks that they warn
pytestmark = pytest.mark.filterwarnings("ignore::hpstudy.sweep.SweepDeprecationWarning")

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "sweeps" / "seed.yaml"


def _sweep(parameters: dict, **top) -> Sweep:
    return Sweep.from_dict({"method": "random", "parameters": parameters, **top})


def _dim(spec: dict):
    return _sweep({"p": spec}).space["p"]


def _error(config) -> str:
    with pytest.raises(ConfigError) as info:
        Sweep.from_dict(config)
    return str(info.value)


# -- the seed presentation's sweep -------------------------------------------------
def test_seed_file_loads_as_written() -> None:
    sweep = Sweep.from_yaml(SEED)
    assert sweep.method == "bayes"
    assert sweep.metric == Metric(name="val_accuracy", goal=Goal.MAXIMIZE)
    assert sweep.early_terminate == EarlyTerminate(type="hyperband", min_iter=3, eta=3, s=2)
    assert sweep.run_cap is None
    space = sweep.space
    assert space.names == ("model_name", "learning_rate", "batch_size", "dropout", "optimizer",
                           "fine_tune_layers", "img_size", "epochs")
    assert space["model_name"] == Categorical(["Xception", "MobileNetV2"])
    assert space["learning_rate"] == Real(1e-5, 1e-3, log=True)
    assert space["batch_size"] == Categorical([16, 32, 64])
    assert space["dropout"] == Real(0.2, 0.7)
    assert space["optimizer"] == Categorical(["adam", "rmsprop", "sgd"])
    assert space["fine_tune_layers"] == Categorical([0, 10, 30, 50])
    assert space["img_size"] == Categorical([224, 299])
    assert space["epochs"] == Categorical([10, 15, 20, 25])
    # the seed team's reported best configuration (experiment #1) is a point of the space
    best = {"model_name": "Xception", "learning_rate": 0.000273, "batch_size": 32,
            "dropout": 0.2925, "optimizer": "adam", "fine_tune_layers": 50, "img_size": 299,
            "epochs": 25}
    assert space.validate(best) == best
    assert Sweep.from_dict(sweep.to_dict()) == sweep
    assert Sweep.from_text(sweep.to_yaml()) == sweep


# -- distributions, defaults, inference ----------------------------------------------
@pytest.mark.parametrize(("spec", "expected"), [
    ({"distribution": "constant", "value": 3}, Constant(3)),
    ({"value": "adam"}, Constant("adam")),
    ({"distribution": "categorical", "values": ["a", "b"]}, Categorical(["a", "b"])),
    ({"values": [1, 2], "probabilities": [0.25, 0.75]},
     Categorical([1, 2], probabilities=[0.25, 0.75])),
    ({"distribution": "categorical_w_probabilities", "values": ["a", "b"],
      "probabilities": [0.5, 0.5]}, Categorical(["a", "b"], probabilities=[0.5, 0.5])),
    ({"distribution": "int_uniform", "min": 1, "max": 5}, Integer(1, 5)),
    ({"min": 1, "max": 5}, Integer(1, 5)),
    ({"min": 1.0, "max": 5}, Real(1.0, 5)),
    ({"min": 1, "max": 5.0}, Real(1, 5.0)),
    ({"distribution": "uniform", "min": 0, "max": 1}, Real(0, 1)),
    ({"distribution": "q_uniform", "min": 0, "max": 10}, Real(0, 10, q=1.0)),
    ({"distribution": "q_uniform", "min": 0, "max": 10, "q": 2}, Real(0, 10, q=2)),
    ({"distribution": "log_uniform", "min": -2, "max": 3},
     Real(math.exp(-2), math.exp(3), log=True)),
    ({"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1}, Real(1e-4, 1e-1, log=True)),
    ({"distribution": "q_log_uniform", "min": 0, "max": 5, "q": 2},
     Real(1.0, math.exp(5), log=True, q=2)),
    ({"distribution": "q_log_uniform_values", "min": 1, "max": 256},
     Real(1, 256, log=True, q=1.0)),
    ({"distribution": "inv_log_uniform", "min": 1, "max": 3},
     Real(math.exp(-3), math.exp(-1), log=True)),
    ({"distribution": "inv_log_uniform_values", "min": 0.01, "max": 0.1},
     Real(0.01, 0.1, log=True)),
    ({"distribution": "normal"}, Normal(0.0, 1.0)),
    ({"distribution": "normal", "mu": 2, "sigma": 0.5}, Normal(2, 0.5)),
    ({"distribution": "q_normal", "mu": 10, "sigma": 3}, Normal(10, 3, q=1.0)),
    ({"distribution": "log_normal", "mu": -1}, LogNormal(-1, 1.0)),
    ({"distribution": "q_log_normal", "q": 5}, LogNormal(0.0, 1.0, q=5)),
    ({"distribution": "beta"}, Beta(1.0, 1.0)),
    ({"distribution": "beta", "a": 2, "b": 5}, Beta(2, 5)),
    ({"distribution": "q_beta", "a": 2, "b": 5, "q": 0.1}, Beta(2, 5, q=0.1)),
    ({"distribution": "int_log_uniform_values", "min": 1, "max": 64}, Integer(1, 64, log=True)),
])
def test_every_distribution_maps_with_wandb_defaults(spec: dict, expected) -> None:
    dim = _dim(spec)
    assert dim == expected
    assert type(dim) is type(expected)
    again = space_from_dict({"p": dim.to_dict()})["p"]
    assert again == dim


def test_q_default_is_wandb_float_one() -> None:
    # W&B's schema fills q = 1.0 (a float), so values are floats; an int q gives ints
    dim = _dim({"distribution": "q_uniform", "min": 0, "max": 10})
    assert dim.q == 1.0 and isinstance(dim.q, float)
    assert all(type(v) is float for v in dim.from_unit([0.0, 0.5, 1.0]))
    dim = _dim({"distribution": "q_uniform", "min": 0, "max": 10, "q": 1})
    assert all(type(v) is int for v in dim.from_unit([0.0, 0.5, 1.0]))


def test_nested_parameters_flatten_to_dotted_names() -> None:
    sweep = _sweep({
        "optimizer": {"parameters": {
            "name": {"values": ["adam", "sgd"]},
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
            "betas": {"parameters": {"b1": {"value": 0.9}}},
        }},
        "epochs": {"value": 10},
    })
    assert sweep.space.names == ("optimizer.name", "optimizer.lr", "optimizer.betas.b1", "epochs")
    params = sweep.space.sample(1, seed=0)[0]
    nested = sweep.space.nest(params)
    assert nested["optimizer"]["betas"] == {"b1": 0.9} and nested["epochs"] == 10
    assert set(nested["optimizer"]) == {"name", "lr", "betas"}
    assert Sweep.from_dict(sweep.to_dict()) == sweep


def test_wandb_keys_a_local_run_ignores_are_accepted_and_kept() -> None:
    extras = {"program": "train.py", "command": ["${env}", "python", "${program}", "${args}"],
              "entity": "me", "project": "jelly", "name": "exp1", "description": "first"}
    sweep = _sweep({"a": {"values": [1]}}, run_cap=20,
                   metric={"name": "loss", "target": 0.1, "impute": "worst"}, **extras)
    assert sweep.extras == extras
    assert sweep.run_cap == 20
    assert sweep.metric == Metric(name="loss", goal=Goal.MINIMIZE, target=0.1, impute="worst")
    out = sweep.to_dict()
    assert {k: out[k] for k in extras} == extras
    assert Sweep.from_dict(out) == sweep


def test_metric_goal_defaults_to_minimize_and_metric_is_optional_for_random() -> None:
    assert _sweep({"a": {"value": 1}}, metric={"name": "loss"}).metric.goal is Goal.MINIMIZE
    assert _sweep({"a": {"value": 1}}).metric is None


def test_early_terminate_forms() -> None:
    loss = {"name": "loss"}
    et = _sweep({"a": {"value": 1}}, metric=loss, early_terminate={
        "type": "hyperband", "max_iter": 27, "s": 3}).early_terminate
    assert et == EarlyTerminate(max_iter=27, s=3, eta=3, strict=True)
    assert et.to_dict() == {"type": "hyperband", "max_iter": 27, "s": 3, "eta": 3, "strict": True}
    et = _sweep({"a": {"value": 1}}, metric=loss, early_terminate={
        "type": "hyperband", "min_iter": 2, "eta": 2, "strict": False}).early_terminate
    assert (et.min_iter, et.eta, et.strict) == (2, 2, False)


def test_grid_method_with_discrete_parameters() -> None:
    sweep = Sweep.from_dict({"method": "grid", "parameters": {
        "a": {"values": [1, 2]}, "b": {"min": 1, "max": 3},
        "c": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.5}}})
    assert len(sweep.space.grid()) == 2 * 3 * 2


# -- errors -------------------------------------------------------------------------
BASE = {"method": "random", "metric": {"name": "acc", "goal": "maximize"}}


@pytest.mark.parametrize(("config", "message"), [
    ({**BASE, "parameters": {"lr": {"distribution": "log_uniform_values", "min": 0, "max": 1}}},
     "parameters.lr.min: must be > 0 for log_uniform_values (got 0)"),
    ({**BASE, "parameters": {"lr": {"distribution": "q_log_uniform_values", "min": -1, "max": 1}}},
     "parameters.lr.min: must be > 0 for q_log_uniform_values (got -1)"),
    ({**BASE, "parameters": {"x": {"min": 5, "max": 1}}},
     "parameters.x.min: must be < max for int_uniform (got min=5, max=1)"),
    ({**BASE, "parameters": {"x": {"distribution": "uniform", "min": 1.0, "max": 1.0}}},
     "parameters.x.min: must be < max for uniform"),
    ({**BASE, "parameters": {"x": {"distribution": "int_uniform", "min": 1.5, "max": 3}}},
     "parameters.x.min: must be an integer (got 1.5)"),
    ({**BASE, "parameters": {"x": {"min": True, "max": 3}}},
     "parameters.x.min: must be a number (got True)"),
    ({**BASE, "parameters": {"x": {"min": float("nan"), "max": 3.0}}},
     "parameters.x.min: must be a finite number (got nan)"),
    ({**BASE, "parameters": {"x": {"min": 0.0, "max": float("inf")}}},
     "parameters.x.max: must be a finite number (got inf)"),
    ({**BASE, "parameters": {"x": {"min": 0, "max": 10**400}}},
     "parameters.x.max: must be between -2**53 and 2**53"),
    ({**BASE, "parameters": {"x": {"distribution": "uniform", "min": 0, "max": 10**400}}},
     "parameters.x.max: must be a finite number"),
    ({**BASE, "parameters": {"x": {"distribution": "log_uniform", "min": 0, "max": 800}}},
     "parameters.x.max: exp(800) is not a positive finite float for log_uniform"),
    ({**BASE, "parameters": {"x": {"distribution": "log_uniform", "min": -800, "max": 0}}},
     "parameters.x.min: exp(-800) is not a positive finite float"),
    ({**BASE, "parameters": {"x": {"min": 1}}}, "parameters.x.max: required"),
    ({**BASE, "parameters": {"x": {"values": []}}}, "parameters.x.values: must not be empty"),
    ({**BASE, "parameters": {"x": {"values": "abc"}}},
     "parameters.x.values: must be a list (got str)"),
    ({**BASE, "parameters": {"x": {"values": [1, 2], "probabilities": [0.5, 0.4]}}},
     "parameters.x.probabilities: must sum to 1 within 1e-5 (got 0.9"),
    ({**BASE, "parameters": {"x": {"values": [1, 2], "probabilities": [1.0]}}},
     "parameters.x.probabilities: must have one entry per value (2) (got 1)"),
    ({**BASE, "parameters": {"x": {"values": [1, 2], "probabilites": [0.5, 0.5]}}},
     "parameters.x.probabilites: unknown key for categorical; allowed: distribution, values, "
     "probabilities, ordered (did you mean 'probabilities'?)"),
    ({**BASE, "parameters": {"x": {"distribution": "log_uniform_value", "min": 1, "max": 2}}},
     "(did you mean 'log_uniform_values'?)"),
    ({**BASE, "parameters": {"x": {"distribution": "normal", "sigma": 0}}},
     "parameters.x.sigma: must be > 0 for normal (got 0)"),
    ({**BASE, "parameters": {"x": {"distribution": "beta", "a": -1}}},
     "parameters.x.a: must be > 0 for beta (got -1)"),
    ({**BASE, "parameters": {"x": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0}}},
     "parameters.x.q: must be > 0 (got 0)"),
    ({**BASE, "parameters": {"x": {"distribution": "normal", "min": 0}}},
     "parameters.x.min: unknown key for normal"),
    ({**BASE, "parameters": {"x": {"mu": 0, "sigma": 1}}},
     "parameters.x: cannot infer the distribution (keys: mu, sigma)"),
    ({**BASE, "parameters": {"x": [1, 2, 3]}}, "parameters.x: must be a mapping"),
    ({**BASE, "parameters": {"x": None}}, "parameters.x: must be a mapping"),
    ({**BASE, "parameters": {"g": {"parameters": {"y": {"value": 1}}, "value": 2}}},
     "parameters.g.value: unknown key next to 'parameters'"),
    ({**BASE, "parameters": {"g": {"parameters": {}}}},
     "parameters.g.parameters: must hold at least one"),
    ({**BASE, "parameters": {}}, "parameters: must hold at least one parameter"),
    ({**BASE, "parameters": [{"x": {"value": 1}}]}, "parameters: must be a mapping"),
    ({**BASE, "parameters": {"a.b": {"value": 1}, "a": {"parameters": {"b": {"value": 2}}}}},
     "a.b: two parameters have this flat name"),
    ({"method": "grid", "parameters": {"lr": {"min": 0.1, "max": 1.0}, "b": {"values": [1]}}},
     "parameters.lr: grid search cannot enumerate a continuous parameter"),
    ({"method": "grid", "parameters": {"lr": {"distribution": "q_log_uniform_values", "min": 1,
                                              "max": 10}}},
     "parameters.lr: grid search cannot enumerate"),
    ({"method": "bayes", "parameters": {"a": {"value": 1}}}, "metric: required for method bayes"),
    ({"method": "hyperopt", "parameters": {"a": {"value": 1}}},
     "method: must be one of bayes, grid, random (got 'hyperopt')"),
    ({"method": "custom", "parameters": {"a": {"value": 1}}}, "'custom' needs W&B's scheduler"),
    ({"parameters": {"a": {"value": 1}}}, "method: required"),
    ({"method": "random"}, "parameters: required"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "paramters": {}},
     "paramters: unknown key (did you mean 'parameters'?)"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "metrics": []},
     "metrics: unknown key (multi-objective"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "program": 3}, "program: must be a str (got int)"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "command": "python train.py"},
     "command: must be a list (got str)"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "run_cap": 0}, "run_cap: must be >= 1 (got 0)"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "run_cap": 2.5}, "run_cap: must be an integer"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "run_cap": True}, "run_cap: must be an integer"),
    ({"method": "random", "metric": {"goal": "maximize"}, "parameters": {"a": {"value": 1}}},
     "metric.name: required"),
    ({"method": "random", "metric": {"name": "acc", "goal": "maximise"},
      "parameters": {"a": {"value": 1}}},
     "metric.goal: must be maximize or minimize (got 'maximise') (did you mean 'maximize'?)"),
    ({"method": "random", "metric": {"name": "acc", "target": "high"},
      "parameters": {"a": {"value": 1}}}, "metric.target: must be a number"),
    ({"method": "random", "metric": {"name": "acc", "tagret": 1},
      "parameters": {"a": {"value": 1}}}, "metric.tagret: unknown key"),
    ({"method": "random", "metric": "acc", "parameters": {"a": {"value": 1}}},
     "metric: must be a mapping"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "early_terminate": {"type": "hyperband"}},
     "early_terminate: needs min_iter, or both max_iter and s"),
    ({**BASE, "parameters": {"a": {"value": 1}},
      "early_terminate": {"type": "hyperband", "max_iter": 27}},
     "early_terminate: needs min_iter, or both max_iter and s"),
    ({**BASE, "parameters": {"a": {"value": 1}},
      "early_terminate": {"type": "hyperband", "min_iter": 0}},
     "early_terminate.min_iter: must be >= 1"),
    ({**BASE, "parameters": {"a": {"value": 1}},
      "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 1}},
     "early_terminate.eta: must be a finite number > 1 (got 1)"),
    ({**BASE, "parameters": {"a": {"value": 1}},
      "early_terminate": {"type": "hyperband", "min_iter": 3, "strict": "yes"}},
     "early_terminate.strict: must be true or false"),
    ({**BASE, "parameters": {"a": {"value": 1}},
      "early_terminate": {"type": "hyperband", "min_iter": 3, "min_iters": 4}},
     "early_terminate.min_iters: unknown key for hyperband"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "early_terminate": {"min_iter": 3}},
     "early_terminate.type: required"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "early_terminate": {"type": "nonsense"}},
     "early_terminate.type: must be one of"),
    ({**BASE, "parameters": {"a": {"value": 1}}, "early_terminate": [1]},
     "early_terminate: must be a mapping"),
    (None, "sweep config: must be a mapping"),
    ([1, 2], "sweep config: must be a mapping"),
])
def test_bad_configs_name_the_key_path_and_rule(config, message: str) -> None:
    assert message in _error(config)


def test_from_yaml_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError, match="cannot read the sweep file"):
        Sweep.from_yaml(missing)
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: random\nparameters: {a: [1, 2\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        Sweep.from_yaml(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n")
    with pytest.raises(ConfigError, match=r"scalar\.yaml: sweep config: must be a mapping"):
        Sweep.from_yaml(scalar)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("method: random\nparameters:\n  lr: {distribution: log_uniform_values, "
                     "min: 0, max: 1}\n")
    with pytest.raises(ConfigError, match=r"wrong\.yaml: parameters\.lr\.min: must be > 0"):
        Sweep.from_yaml(wrong)
    with pytest.raises(ConfigError, match="path: must be a file path"):
        Sweep.from_yaml(3)  # type: ignore[arg-type]


def test_python_only_yaml_tags_are_refused() -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        Sweep.from_text("method: !!python/object/apply:os.system ['true']\n")


def test_records_validate_directly() -> None:
    with pytest.raises(ConfigError, match="metric.name"):
        Metric(name="")
    with pytest.raises(ConfigError, match="early_terminate.type"):
        EarlyTerminate(type="asha", min_iter=1)
    with pytest.raises(ConfigError, match="space: must be a SearchSpace"):
        Sweep(space={"a": 1}, method="random")  # type: ignore[arg-type]


def test_exponent_notation_without_a_dot_is_a_float() -> None:
    # PyYAML (YAML 1.1) reads 1e-5 as a string, which breaks W&B (wandb/wandb#1129)
    sweep = Sweep.from_text("method: random\nparameters:\n"
                            "  lr: {distribution: log_uniform_values, min: 1e-5, max: 1E-3}\n"
                            "  wd: {values: [0, 1e-4, 5e+1, '1e-2']}\n")
    assert sweep.space["lr"] == Real(1e-5, 1e-3, log=True)
    assert sweep.space["wd"].values == (0, 1e-4, 50.0, "1e-2")


def test_grid_off_grid_q_points() -> None:
    # q_uniform's grid starts at min like W&B's arange
    sweep = Sweep.from_dict({"method": "grid", "parameters": {
        "a": {"values": ["x", "y"]},
        "b": {"distribution": "q_uniform", "min": 0.15, "max": 0.4, "q": 0.1}}})
    grid = sweep.space.grid()
    assert [p["b"] for p in grid] == [0.15, 0.25, 0.35, 0.15, 0.25, 0.35]
    assert all(sweep.space.validate(p) == p for p in grid)
