"""Balanced designs: the GP's minimum of complete configurations per model, the balance
stored with the study (load and resume rebuild it), ``--balance`` and the sweep key."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest

import hpstudy
from hpstudy.cli import main
from hpstudy.errors import ConfigError
from hpstudy.optimizers import GridSearch, RandomSearch, make_optimizer, optimizer_spec
from hpstudy.optimizers.gp import GPOptimizer
from hpstudy.optimizers.gp._balance import FORCE_LIMIT, BalancePlan
from hpstudy.optimizers.gp._encoding import Encoder
from hpstudy.sweep import Sweep
from hpstudy.trials import Trial, Trials, TrialState

# parameter and model names deliberately not alphabetical
MODELS = ("vit", "cnn", "mlp")
SPACE = hpstudy.SearchSpace({"zeta": hpstudy.Real(0.0, 1.0),
                             "model": hpstudy.Categorical(MODELS),
                             "alpha": hpstudy.Real(0.0, 1.0)})
BASE = {"vit": 0.0, "cnn": 1.0, "mlp": -1.0}


def objective(params, ctx):
    """cnn is best by far: an unbalanced GP soon samples little else."""
    return BASE[params["model"]] - (params["zeta"] - 0.3) ** 2 - (params["alpha"] - 0.6) ** 2


def vit_fails(params, ctx):
    if params["model"] == "vit":
        return math.nan  # a FAILED trial: never a complete configuration
    return objective(params, ctx)


def _complete(trials, upto: int) -> collections.Counter:
    return collections.Counter(t.params["model"] for t in trials[:upto]
                               if t.state is hpstudy.TrialState.COMPLETE)


def test_the_gp_gives_every_model_two_complete_configurations_first():
    for seed in (0, 1):
        study = hpstudy.Study(SPACE, seed=seed, optimizer=GPOptimizer(balance="model"))
        trials = study.run(objective, n_trials=14)
        first = _complete(trials, 6)
        assert all(first[m] == 2 for m in MODELS), first
        # after that, the GP goes where the value is: cnn dominates the rest
        rest = collections.Counter(t.params["model"] for t in trials[6:])
        assert rest["cnn"] > rest["vit"] + rest["mlp"]


def test_min_per_value_is_the_minimum_asked_for():
    study = hpstudy.Study(SPACE, seed=2, optimizer=GPOptimizer(balance="model", min_per_value=3))
    trials = study.run(objective, n_trials=9)
    assert all(_complete(trials, 9)[m] == 3 for m in MODELS)


def test_a_value_that_never_completes_is_forced_a_bounded_number_of_times():
    study = hpstudy.Study(SPACE, seed=0, optimizer=GPOptimizer(balance="model"))
    trials = study.run(vit_fails, n_trials=16)
    tried = collections.Counter(t.params["model"] for t in trials)
    assert FORCE_LIMIT == 4  # docs/gp.rst: at most 4 * min_per_value times
    assert tried["vit"] == FORCE_LIMIT * 2  # then the GP goes on unconstrained
    assert all(_complete(trials, 16)[m] >= 2 for m in ("cnn", "mlp"))


def test_balance_asks_are_a_pure_function_of_the_trials_and_rng():
    study = hpstudy.Study(SPACE, seed=0, optimizer=GPOptimizer(balance="model"))
    trials = study.run(objective, n_trials=4)
    opt = GPOptimizer(balance="model")
    a = opt.ask(SPACE, trials, 2, np.random.default_rng(7))
    b = GPOptimizer(balance="model").ask(SPACE, trials, 2, np.random.default_rng(7))
    assert a == b
    # ties go to the parameter's order (vit, cnn, mlp), then the batch completes cnn and mlp
    assert [t.params["model"] for t in trials] == ["vit", "cnn", "mlp", "vit"]
    assert [p["model"] for p in a] == ["cnn", "mlp"]


def _trial(number, model, state, value=None):
    return Trial(number=number, params={"zeta": 0.1 * number, "model": model, "alpha": 0.5},
                 state=state, value=value)


def test_running_trials_count_as_on_their_way():
    done = [_trial(i, m, TrialState.COMPLETE, BASE[m]) for i, m in enumerate(["cnn", "cnn", "mlp",
                                                                              "mlp", "vit"])]
    one = Trials([*done, _trial(5, "vit", TrialState.RUNNING)])
    pruned = Trials([*done, _trial(5, "vit", TrialState.PRUNED, -5.0)])
    enc = Encoder(SPACE)
    assert BalancePlan(enc, SPACE, one, "model", 2).forced() is None
    assert BalancePlan(enc, SPACE, pruned, "model", 2).forced() == MODELS.index("vit")
    ask = GPOptimizer(balance="model").ask(SPACE, pruned, 1, np.random.default_rng(0))
    assert ask[0]["model"] == "vit"


@pytest.mark.parametrize("optimizer", [RandomSearch(balance="model"),
                                       GPOptimizer(balance="model"),
                                       GPOptimizer(balance="model", pruned="rung", kappa=3.0,
                                                   acquisition="ucb")])
def test_resume_asks_the_same_points_as_an_uninterrupted_study(tmp_path, optimizer):
    whole = hpstudy.Study(SPACE, seed=5, optimizer=optimizer, storage=str(tmp_path / "a.db"))
    expected = [dict(t.params) for t in whole.run(objective, n_trials=10)]
    part = hpstudy.Study(SPACE, seed=5, optimizer=optimizer, storage=str(tmp_path / "b.db"))
    part.run(objective, n_trials=4)
    resumed = hpstudy.Study.load(str(tmp_path / "b.db"))  # no optimizer given: stored
    assert type(resumed.optimizer) is type(optimizer)
    assert optimizer_spec(resumed.optimizer) == optimizer_spec(optimizer)
    got = [dict(t.params) for t in resumed.run(objective, n_trials=6)]
    assert got == expected
    assert resumed.meta["optimizer_settings"]["balance"] == "model"


def test_only_settings_that_differ_from_the_defaults_are_stored(tmp_path):
    plain = hpstudy.Study(SPACE, optimizer=RandomSearch(), storage=str(tmp_path / "p.db"))
    assert plain.meta["optimizer"] == "random" and "optimizer_settings" not in plain.meta
    grid_space = hpstudy.SearchSpace({"k": hpstudy.Categorical((3, 1, 2)),
                                      "model": hpstudy.Categorical(MODELS)})
    grid = hpstudy.Study(grid_space, optimizer=GridSearch(balance="model"),
                         storage=str(tmp_path / "g.db"))
    assert grid.meta["optimizer"] == "grid"
    assert grid.meta["optimizer_settings"] == {"balance": "model"}
    assert hpstudy.Study.load(str(tmp_path / "g.db")).optimizer == GridSearch(balance="model")


def test_a_user_optimizer_is_still_stored_by_its_class(tmp_path):
    class Mine(RandomSearch):
        pass

    assert optimizer_spec(Mine()) is None
    study = hpstudy.Study(SPACE, optimizer=Mine(), storage=str(tmp_path / "m.db"))
    assert study.meta["optimizer"].startswith("custom:")
    with pytest.raises(ConfigError, match="optimizer"):
        hpstudy.Study.load(str(tmp_path / "m.db"))


@pytest.mark.parametrize("make", [lambda b: RandomSearch(balance=b), lambda b: GridSearch(balance=b),
                                  lambda b: GPOptimizer(balance=b)])
def test_bad_balance_is_refused_when_the_study_is_made(make):
    space = hpstudy.SearchSpace({"k": hpstudy.Categorical((3, 1, 2)),
                                 "model": hpstudy.Categorical(MODELS),
                                 "n": hpstudy.Integer(1, 3)})
    with pytest.raises(ConfigError, match=r"^balance: no parameter 'nope'"):
        hpstudy.Study(space, optimizer=make("nope"))
    with pytest.raises(ConfigError, match=r"^balance: parameter 'n' must be categorical"):
        hpstudy.Study(space, optimizer=make("n"))
    with pytest.raises(ConfigError, match=r"^balance: must be a parameter name"):
        make(3)


def test_bad_gp_settings():
    with pytest.raises(ConfigError, match="min_per_value"):
        GPOptimizer(balance="model", min_per_value=0)
    with pytest.raises(ConfigError, match="method: 'random' takes no such setting"):
        make_optimizer("random", kappa=2.0)


SWEEP = """
method: {method}
metric: {{name: value, goal: maximize}}
parameters:
  zeta: {{distribution: uniform, min: 0.0, max: 1.0}}
  model: {{values: [vit, cnn, mlp]}}
  alpha: {{distribution: uniform, min: 0.0, max: 1.0}}
{extra}"""


def _sweep(tmp_path, method="random", extra=""):
    path = tmp_path / f"{method}.yaml"
    path.write_text(SWEEP.format(method=method, extra=extra))
    return path


def _models(db) -> list[str]:
    return [t.params["model"] for t in hpstudy.Study.load(str(db)).trials]


@pytest.mark.parametrize("method", ["random", "bayes"])
def test_cli_balance_end_to_end_and_resume(tmp_path, capsys, method):
    db = tmp_path / "s.db"
    code = main(["run", str(_sweep(tmp_path, method)), "--objective", "tests.test_balance_gp:objective",
                 "--storage", str(db), "--trials", "4", "--balance", "model"])
    assert code == 0, capsys.readouterr().err
    assert main(["resume", str(db), "--trials", "6", "--objective",
                 "tests.test_balance_gp:objective"]) == 0
    models = _models(db)
    assert collections.Counter(models) == dict.fromkeys(MODELS, 2)
    study = hpstudy.Study.load(str(db))
    assert study.meta["optimizer_settings"]["balance"] == "model"
    # the same study without --balance: the best model soon takes over
    assert main(["run", str(_sweep(tmp_path, method)), "--objective",
                 "tests.test_balance_gp:objective", "--storage", str(tmp_path / "u.db"),
                 "--trials", "6", "--seed", "1"]) == 0
    assert "optimizer_settings" not in hpstudy.Study.load(str(tmp_path / "u.db")).meta


def test_the_sweep_key_balances_and_the_option_overrides_it(tmp_path, capsys):
    path = _sweep(tmp_path, "random", "balance: model\n")
    assert Sweep.from_yaml(path).balance == "model"
    assert Sweep.from_yaml(path).to_dict()["balance"] == "model"
    db = tmp_path / "k.db"
    assert main(["run", str(path), "--objective", "tests.test_balance_gp:objective",
                 "--storage", str(db), "--trials", "6"]) == 0
    assert collections.Counter(_models(db)) == dict.fromkeys(MODELS, 2)


@pytest.mark.parametrize(("name", "rule"), [("nope", "no parameter 'nope'"),
                                            ("zeta", "parameter 'zeta' must be categorical")])
def test_cli_bad_balance_exits_2_with_one_line_naming_balance(tmp_path, capsys, name, rule):
    code = main(["run", str(_sweep(tmp_path)), "--objective", "tests.test_balance_gp:objective",
                 "--storage", str(tmp_path / "x.db"), "--trials", "2", "--balance", name])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "balance: " in err and rule in err
    assert not (tmp_path / "x.db").exists()


def test_sweep_key_errors_name_balance():
    base = {"method": "random", "parameters": {"m": {"values": ["b", "a"]},
                                               "x": {"min": 0.0, "max": 1.0}}}
    for bad, rule in (("x", "must be categorical"), ("q", "no parameter 'q'"),
                      (["m"], "must be the name")):
        with pytest.raises(ConfigError, match=f"^balance: .*{rule}"):
            Sweep.from_dict({**base, "balance": bad})


@pytest.mark.parametrize("width", [2, 3])
def test_a_balanced_random_batch_shares_the_values_and_equals_a_serial_run(tmp_path, width):
    """Random search asks trial by trial; the batch's earlier picks count as running trials,
    so a batch of ``width`` parallel trials is balanced, and equals the serial run."""
    import concurrent.futures as cf

    def run(n_jobs: int, name: str) -> list[dict]:
        study = hpstudy.Study(SPACE, seed=4, optimizer=make_optimizer("random", balance="model"),
                              storage=str(tmp_path / name))
        with cf.ThreadPoolExecutor(n_jobs) as pool:
            trials = study.run(objective, n_trials=6, n_jobs=n_jobs, executor=pool)
        return [dict(t.params) for t in trials]

    parallel, serial = run(width, f"p{width}.db"), run(1, f"s{width}.db")
    assert parallel == serial
    models = [p["model"] for p in parallel]
    assert len(set(models[:width])) == width, models  # one batch: distinct models
    assert collections.Counter(models) == {m: 2 for m in MODELS}


@pytest.mark.parametrize("method", ["random", "bayes"])
def test_study_from_sweep_applies_the_balance_key(method):
    config = {"method": method, "metric": {"name": "score", "goal": "maximize"},
              "balance": "model",
              "parameters": {"zeta": {"min": 0.0, "max": 1.0},
                             "model": {"values": list(MODELS)},
                             "alpha": {"min": 0.0, "max": 1.0}}}
    study = hpstudy.Study.from_sweep(config, seed=3)
    assert study.optimizer.balance == "model"
    trials = study.run(objective, n_trials=6)
    assert collections.Counter(t.params["model"] for t in trials) == {m: 2 for m in MODELS}


def test_the_forced_design_points_do_not_pile_on_the_faces_of_the_box():
    """Before the model takes over, the points forced into a value's slice are chosen by
    the initial design's distance (wrapping around on continuous columns), as the
    unforced design is: with the box's Euclidean distance 40 % of their coordinates lay
    within 5 % of a face (uniform points: 10 %)."""
    space = hpstudy.SearchSpace({"zeta": hpstudy.Real(0.0, 1.0), "model": hpstudy.Categorical(MODELS),
                                 "alpha": hpstudy.Real(0.0, 1.0), "beta": hpstudy.Real(-3.0, 5.0),
                                 "gamma": hpstudy.Real(0.0, 1.0)})
    bounds = {"zeta": (0.0, 1.0), "alpha": (0.0, 1.0), "beta": (-3.0, 5.0), "gamma": (0.0, 1.0)}
    near = []
    for seed in range(10):
        opt = GPOptimizer(balance="model", min_per_value=4, n_initial=30)  # no model yet
        asks = opt.ask(space, Trials([]), 12, np.random.default_rng(seed))
        assert sorted(p["model"] for p in asks) == sorted(MODELS * 4)  # all forced
        for p in asks:
            for name, (lo, hi) in bounds.items():
                u = (p[name] - lo) / (hi - lo)
                near.append(min(u, 1.0 - u) < 0.05)
    assert np.mean(near) < 0.2, np.mean(near)
