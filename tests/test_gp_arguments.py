"""GPOptimizer takes numpy numbers like Python ones, and refuses bools (issue 8 #12c)."""

from __future__ import annotations

import numpy as np
import pytest

from hpstudy.errors import ConfigError
from hpstudy.optimizers.gp import GPOptimizer
from hpstudy.space import Real, SearchSpace
from hpstudy.trials import Trials


def test_numpy_numbers_are_accepted():
    opt = GPOptimizer(n_initial=np.int64(3), kappa=np.float32(2.0), n_candidates=np.int64(64),
                      n_starts=np.int32(2))
    assert (opt.n_initial, opt.kappa, opt.n_candidates, opt.n_starts) == (3, 2.0, 64, 2)
    assert type(opt.kappa) is float and type(opt.n_initial) is int
    space = SearchSpace({"x": Real(0.0, 1.0)})
    assert len(opt.ask(space, Trials(), np.int64(2), np.random.default_rng(0))) == 2


@pytest.mark.parametrize("kwargs", [{"kappa": True}, {"kappa": float("inf")},
                                    {"n_initial": True}, {"n_starts": 2.0}])
def test_bools_and_non_integers_are_refused(kwargs):
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        GPOptimizer(**kwargs)


def test_threadpoolctl_is_a_declared_dependency():
    """The GP imports threadpoolctl on every ask: it must be installed with hpstudy."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    deps = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert re.search(r'^\s*"threadpoolctl\b', deps, re.M)
