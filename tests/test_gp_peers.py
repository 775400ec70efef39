"""The GP's search over categorical combinations (issue 10: the categorical weakness)."""

from __future__ import annotations

import itertools

import numpy as np

from hpstudy.optimizers.gp import GPOptimizer
from hpstudy.optimizers.gp import _acquisition as acqmod
from hpstudy.optimizers.gp._encoding import Encoder
from hpstudy.optimizers.gp._model import GPModel
from hpstudy.space import Categorical, SearchSpace
from hpstudy.trials import Goal, Trial, Trials, TrialState

# A known acquisition on codes of categorical columns: separable scores plus one interaction
# that makes the best combination differ from the best choice of each column alone.
_W = np.array([[0.0, 0.3, 0.9, 0.1, 0.2], [0.5, 0.0, 0.1, 0.8, 0.2], [0.2, 0.7, 0.0, 0.1, 0.4],
               [0.0, 0.1, 0.2, 0.6, 0.3], [0.4, 0.0, 0.9, 0.1, 0.3], [0.1, 0.2, 0.3, 0.0, 0.8],
               [0.3, 0.3, 0.2, 0.9, 0.1], [0.6, 0.1, 0.0, 0.2, 0.5]])


class _KnownAcq(acqmod.AcquisitionSpec):
    """An acquisition whose value is a fixed function of the codes (the model is unused)."""

    def __init__(self, d: int) -> None:
        super().__init__("ei", 0.0, 2.0)
        self.d = d

    def value(self, model, X):
        idx = np.asarray(X, dtype=int)
        out = _W[np.arange(self.d), idx].sum(axis=1)
        return out + 1.5 * ((idx[:, 0] == 3) & (idx[:, 1] == 0))


def _space(d: int) -> SearchSpace:
    return SearchSpace({f"op{j}": Categorical([f"v{i}" for i in range(5)]) for j in range(d)})


def _model(enc: Encoder, rng: np.random.Generator) -> GPModel:
    X = enc.from_cube(rng.random((8, enc.n_columns)))
    return GPModel(X, rng.normal(size=8), enc.is_cat, np.zeros(enc.n_columns + 2))


def _argmax(acq: _KnownAcq, d: int, exclude: set) -> np.ndarray:
    grid = np.array(list(itertools.product(range(5), repeat=d)), dtype=float)
    vals = acq.value(None, grid)
    for i in np.argsort(-vals, kind="stable"):
        if Encoder.key(grid[i]) not in exclude:
            return grid[i]
    raise AssertionError("everything excluded")


def test_a_small_categorical_space_gets_its_exact_acquisition_maximum():
    d = 6  # 5 ** 6 = 15,625 combinations: searched exhaustively
    enc, acq, rng = Encoder(_space(d)), _KnownAcq(d), np.random.default_rng(0)
    model = _model(enc, rng)
    best = acqmod.maximize_acquisition(acq, model, enc, rng, set())
    np.testing.assert_array_equal(best, _argmax(acq, d, set()))
    # the maximum already evaluated: the next best combination, not a random one
    exclude = {Encoder.key(best)}
    second = acqmod.maximize_acquisition(acq, model, enc, rng, exclude)
    np.testing.assert_array_equal(second, _argmax(acq, d, exclude))


def test_a_large_categorical_space_is_climbed_to_the_maximum_by_local_search():
    d = 8  # 5 ** 8 = 390,625 combinations: too many to list, found by one-column moves
    enc, acq = Encoder(_space(d)), _KnownAcq(d)
    assert acqmod._finite_grid(enc, 10) is None
    for seed in range(2):
        rng = np.random.default_rng(seed)
        best = acqmod.maximize_acquisition(acq, _model(enc, rng), enc, rng, set())
        np.testing.assert_array_equal(best, _argmax(acq, d, set()))


def test_the_optimizer_finds_the_optimum_of_a_small_categorical_function():
    space = _space(4)  # 625 combinations; the optimum needs the interaction term

    def loss(p):
        idx = np.array([[int(p[f"op{j}"][1:]) for j in range(4)]])
        return -float(_KnownAcq(4).value(None, idx)[0])

    best = min(loss(dict(zip(space.names, c, strict=True)))
               for c in itertools.product(*[space[n].values for n in space.names]))
    trials: list[Trial] = []
    opt = GPOptimizer()
    for i in range(40):
        p = opt.ask(space, Trials(trials, goal=Goal.MINIMIZE), 1, np.random.default_rng([3, i]))[0]
        trials.append(Trial(number=i, params=p, state=TrialState.COMPLETE, value=loss(p)))
    assert min(t.value for t in trials) == best
    assert len({tuple(t.params.values()) for t in trials}) == 40  # never a repeat
