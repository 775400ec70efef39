"""The scikit-optimize adapter and the optimizer registry."""

from __future__ import annotations

import numpy as np
import pytest

from hpstudy.errors import ConfigError
from hpstudy.space import Categorical, Constant, Integer, Real, SearchSpace
from hpstudy.trials import Goal, Trial, Trials, TrialState

skopt = pytest.importorskip("skopt")

from hpstudy.optimizers.skopt import SkoptOptimizer, _maps, _replay, to_skopt_dimensions  # noqa: E402

SPACE = SearchSpace({
    "lr": Real(1e-5, 1e-3, log=True),
    "dropout": Real(0.2, 0.7),
    "units": Integer(8, 512, log=True),
    "layers": Integer(1, 4),
    "opt": Categorical(["adam", "rmsprop", "sgd"]),
    "bs": Categorical([16, 32, 64]),
    "wd": Real(0, 1, q=0.25),
    "tag": Constant("x"),
})


def test_dimension_mapping():
    dims = to_skopt_dimensions(SPACE)
    assert [d.name for d in dims] == ["lr", "dropout", "units", "layers", "opt", "bs", "wd"]
    lr, dropout, units, layers, opt, bs, wd = dims
    assert isinstance(lr, skopt.space.Real) and lr.prior == "log-uniform"
    assert (lr.low, lr.high) == (1e-5, 1e-3)
    assert isinstance(dropout, skopt.space.Real) and dropout.prior == "uniform"
    assert isinstance(units, skopt.space.Integer) and units.prior == "log-uniform"
    assert (units.low, units.high) == (8, 512)
    assert isinstance(layers, skopt.space.Integer) and layers.prior == "uniform"
    assert isinstance(opt, skopt.space.Categorical) and list(opt.categories) == [0, 1, 2]
    assert isinstance(bs, skopt.space.Integer) and (bs.low, bs.high) == (0, 2)  # ordinal
    assert isinstance(wd, skopt.space.Real) and (wd.low, wd.high) == (0.0, 1.0)  # unit coordinate


def test_values_round_trip_through_skopt():
    maps = _maps(SPACE)
    for params in SPACE.sample(30, seed=1):
        back = {m.name: m.from_sk(m.to_sk(params[m.name])) for m in maps}
        assert back == {k: v for k, v in params.items() if k != "tag"}


def test_replay_signs_and_imputation():
    maps = _maps(SearchSpace({"x": Real(0, 1)}))
    trials = Trials([
        Trial(number=0, params={"x": 0.1}, state=TrialState.COMPLETE, value=0.8),
        Trial(number=1, params={"x": 0.2}, state=TrialState.COMPLETE, value=0.6),
        Trial(number=2, params={"x": 0.3}, state=TrialState.FAILED),
        Trial(number=3, params={"x": 0.4}, state=TrialState.PRUNED, value=0.7),
        Trial(number=4, params={"x": 0.5}),
    ], goal=Goal.MAXIMIZE)
    X, y = _replay(maps, trials)
    assert X == [[0.1], [0.2], [0.3], [0.4], [0.5]]
    # skopt minimises -value; failed/pruned get the worst (-0.6), running the best (-0.8).
    assert y == [-0.8, -0.6, -0.6, -0.6, -0.8]


def test_ask_returns_valid_points_and_is_deterministic():
    trials = [Trial(number=i, params=p, state=TrialState.COMPLETE, value=float(p["dropout"]))
              for i, p in enumerate(SPACE.sample(12, seed=0))]
    t = Trials(trials, goal=Goal.MINIMIZE)
    opt = SkoptOptimizer(n_initial_points=5, acq_func="EI")
    a = opt.ask(SPACE, t, 2, np.random.default_rng(3))
    b = opt.ask(SPACE, t, 2, np.random.default_rng(3))
    assert a == b and len(a) == 2
    for p in a:
        assert SPACE.validate(p) == p and p["tag"] == "x"


def test_skopt_minimises_a_quadratic():
    space = SearchSpace({"x": Real(-2, 2)})
    opt = SkoptOptimizer(n_initial_points=4, acq_func="EI")
    trials = []
    for i in range(12):
        p = opt.ask(space, Trials(trials, goal=Goal.MINIMIZE), 1, np.random.default_rng(i))[0]
        trials.append(Trial(number=i, params=p, state=TrialState.COMPLETE, value=(p["x"] - 0.5) ** 2))
    assert min(t.value for t in trials) < 1e-2


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_initial_points": 0}, "n_initial_points: must be >= 1"),
    ({"acq_func": ""}, "acq_func: must be a non-empty string"),
])
def test_invalid_settings(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SkoptOptimizer(**kwargs)


def test_invalid_ask_arguments_and_constant_spaces():
    opt = SkoptOptimizer()
    with pytest.raises(ConfigError, match="n: must be >= 1"):
        opt.ask(SPACE, Trials(), 0, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="space: must be a SearchSpace"):
        opt.ask({}, Trials(), 1, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="rng: must be a numpy.random.Generator"):
        opt.ask(SPACE, Trials(), 1, 3)
    const = SearchSpace({"c": Constant(1)})
    assert opt.ask(const, Trials(), 1, np.random.default_rng(0)) == [{"c": 1}]


def test_registry_names():
    from hpstudy.optimizers._registry import OPTIMIZER_NAMES, make_optimizer
    from hpstudy.optimizers.gp import GPOptimizer

    assert isinstance(make_optimizer("bayes"), GPOptimizer)
    assert isinstance(make_optimizer("GP"), GPOptimizer)
    assert isinstance(make_optimizer("skopt"), SkoptOptimizer)
    assert set(OPTIMIZER_NAMES) == {"bayes", "gp", "skopt", "random", "grid"}
    for name in ("random", "grid"):
        assert hasattr(make_optimizer(name), "ask")
    with pytest.raises(ConfigError, match=r"method: must be one of .*\(did you mean 'bayes'\?\)"):
        make_optimizer("bayess")
    with pytest.raises(ConfigError, match="method: must be a string"):
        make_optimizer(3)  # type: ignore[arg-type]


def test_skopt_is_imported_only_when_the_adapter_asks():
    import subprocess
    import sys

    code = ("import sys, hpstudy.optimizers.gp, hpstudy.optimizers.skopt, hpstudy.optimizers._registry;"
            "print('skopt' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
