"""The contract every optimizer passes (random, grid, GP, scikit-optimize).

After Optuna's sampler test suite: one set of tests, parametrised over the
implementations of :class:`hpstudy.optimizers.base.Optimizer`.
"""

from __future__ import annotations

import importlib
import importlib.util
import pickle

import numpy as np
import pytest

from hpstudy.optimizers.base import Optimizer
from hpstudy.space import Categorical, Constant, Integer, Real, SearchSpace
from hpstudy.trials import Goal, Trial, Trials, TrialState


def _factory(module: str, name: str, needs: str | None = None, **kwargs):
    """A maker of ``module.name(**kwargs)``; skips only when the third-party ``needs`` is absent.

    An in-tree module that fails to import fails the test: a skip would hide it.
    """

    def make():
        if needs is not None and importlib.util.find_spec(needs) is None:
            pytest.skip(f"{needs} is not installed (optional dependency of {module})")
        return getattr(importlib.import_module(module), name)(**kwargs)

    return make


FACTORIES = {
    "random": _factory("hpstudy.optimizers.random", "RandomSearch"),
    "grid": _factory("hpstudy.optimizers.grid", "GridSearch"),
    "gp": _factory("hpstudy.optimizers.gp", "GPOptimizer"),
    "skopt": _factory("hpstudy.optimizers.skopt", "SkoptOptimizer", needs="skopt",
                      n_initial_points=3, acq_optimizer="sampling"),
}
ALL = list(FACTORIES)
CONTINUOUS_OK = [name for name in ALL if name != "grid"]

DISCRETE = SearchSpace({
    "opt": Categorical(["adam", "rmsprop", "sgd"]),
    "bs": Categorical([16, 32, 64]),
    "layers": Integer(0, 3),
    "flag": Categorical([True, False]),
    "net.name": Constant("xception"),
})
MIXED = SearchSpace({
    "model_name": Categorical(["Xception", "MobileNetV2"]),
    "learning_rate": Real(1e-5, 1e-3, log=True),
    "batch_size": Categorical([16, 32, 64]),
    "dropout": Real(0.2, 0.7),
    "epochs": Integer(10, 25),
    "wd": Real(0.0, 0.1, q=0.01),
    "seed": Constant(0),
})


def _history(space: SearchSpace, n: int, seed: int = 0) -> list[Trial]:
    """A history with every state: complete, failed, pruned and running trials."""
    states = [TrialState.COMPLETE] * 5 + [TrialState.FAILED, TrialState.PRUNED, TrialState.RUNNING]
    out = []
    for i, p in enumerate(space.sample(n, seed=seed)):
        state = states[i % len(states)]
        value = None if state in (TrialState.FAILED, TrialState.RUNNING) else float(i % 7) / 7
        out.append(Trial(number=i, params=p, state=state, value=value))
    return out


def _cases():
    for name in ALL:
        yield pytest.param(name, DISCRETE, id=f"{name}-discrete")
    for name in CONTINUOUS_OK:
        yield pytest.param(name, MIXED, id=f"{name}-mixed")


@pytest.mark.parametrize(("name", "space"), list(_cases()))
@pytest.mark.parametrize("n_trials", [0, 3, 14])
def test_suggestions_are_valid_params(name, space, n_trials):
    opt = FACTORIES[name]()
    assert isinstance(opt, Optimizer)
    trials = Trials(_history(space, n_trials), goal=Goal.MAXIMIZE)
    out = opt.ask(space, trials, 3, np.random.default_rng(0))
    assert isinstance(out, list) and 1 <= len(out) <= 3
    for params in out:
        assert isinstance(params, dict)
        assert list(params) == list(space.names)
        assert space.validate(params) == params


@pytest.mark.parametrize(("name", "space"), list(_cases()))
def test_same_inputs_give_the_same_suggestions(name, space):
    trials = Trials(_history(space, 10, seed=1), goal=Goal.MINIMIZE)
    a = FACTORIES[name]().ask(space, trials, 2, np.random.default_rng(42))
    opt = FACTORIES[name]()
    b = opt.ask(space, trials, 2, np.random.default_rng(42))
    c = opt.ask(space, trials, 2, np.random.default_rng(42))
    assert a == b == c


@pytest.mark.parametrize("name", ALL)
def test_optimizer_pickles(name):
    opt = FACTORIES[name]()
    trials = Trials(_history(DISCRETE, 6), goal=Goal.MINIMIZE)
    opt.ask(DISCRETE, trials, 1, np.random.default_rng(0))
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.ask(DISCRETE, trials, 1, np.random.default_rng(5)) == opt.ask(
        DISCRETE, trials, 1, np.random.default_rng(5))


@pytest.mark.parametrize("name", ALL)
def test_a_finite_space_runs_to_its_end_or_keeps_answering(name):
    space = SearchSpace({"a": Categorical(["x", "y"]), "b": Integer(0, 1)})
    opt = FACTORIES[name]()
    trials: list[Trial] = []
    for i in range(5):
        out = opt.ask(space, Trials(trials), 1, np.random.default_rng(i))
        assert len(out) <= 1
        if not out:
            break
        trials.append(Trial(number=i, params=out[0], state=TrialState.COMPLETE, value=float(i)))
    if name in ("grid", "gp"):  # these never repeat a point: four points, then none
        assert len(trials) == 4
        assert len({(t.params["a"], t.params["b"]) for t in trials}) == 4
