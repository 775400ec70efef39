"""scikit-optimize behind the optimizer protocol (the only module that imports skopt).

scikit-optimize is archived upstream; hpstudy keeps it as a second engine and as
the peer its own GP (:class:`hpstudy.optimizers.gp.GPOptimizer`) is measured
against. ``skopt`` is imported when :meth:`SkoptOptimizer.ask` first runs.

Mapping of hpstudy dimensions to skopt dimensions:

============================================  =========================================
hpstudy                                       skopt
============================================  =========================================
``Real(low, high)``                           ``Real(low, high, prior="uniform")``
``Real(low, high, log=True)``                 ``Real(low, high, prior="log-uniform")``
``Integer(low, high[, log])``                 ``Integer(low, high[, prior="log-uniform"])``
unordered ``Categorical(values)``             ``Categorical(range(k))`` (index), one-hot
ordered ``Categorical`` (numbers)             ``Integer(0, k - 1)`` (ordinal, by index)
anything else (``q``, normal, beta ...)       ``Real(0, 1)`` on hpstudy's unit coordinate
``Constant``                                  left out, added back
============================================  =========================================

Trials are replayed with ``tell`` on a fresh ``skopt.Optimizer`` at every ask, so
the adapter is stateless and deterministic. COMPLETE trials are told their
value (negated when maximising: skopt minimises); FAILED and PRUNED trials are
told the worst observed value; RUNNING trials are told the best observed value
(skopt's own ``cl_min`` constant liar).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.trials import Trials, TrialState

if TYPE_CHECKING:
    from hpstudy.space import SearchSpace

__all__ = ["SkoptOptimizer", "to_skopt_dimensions"]


class _Map:
    """How one hpstudy dimension is written as a skopt dimension."""

    def __init__(self, name: str, dim: Any) -> None:
        import skopt.space as ss

        self.name, self.dim = name, dim
        kind = dim.kind
        q = getattr(dim, "q", None)
        cls = type(dim).__name__
        if kind == "categorical":
            self.mode = "index"
            k = len(dim.values)
            if getattr(dim, "is_ordered", False) and k > 1:
                self.sk = ss.Integer(0, k - 1, name=name)
            else:
                self.sk = ss.Categorical(list(range(k)), name=name)
        elif cls == "Real" and q is None:
            self.mode = "value"
            prior = "log-uniform" if dim.log else "uniform"
            self.sk = ss.Real(float(dim.low), float(dim.high), prior=prior, name=name)
        elif cls == "Integer" and dim.high > dim.low:
            self.mode = "value"
            prior = "log-uniform" if dim.log else "uniform"
            self.sk = ss.Integer(int(dim.low), int(dim.high), prior=prior, name=name)
        else:
            self.mode = "unit"
            self.sk = ss.Real(0.0, 1.0, name=name)

    def to_sk(self, value: Any) -> Any:
        if self.mode == "index":
            return int(self.dim.index(value))
        if self.mode == "value":
            return value
        return float(self.dim.to_unit([value])[0])

    def from_sk(self, x: Any) -> Any:
        if self.mode == "index":
            return self.dim.values[int(x)]
        if self.mode == "value":
            if self.dim.kind == "integer":
                return self.dim.check(int(min(max(int(x), self.dim.low), self.dim.high)))
            return self.dim.check(min(max(float(x), float(self.dim.low)), float(self.dim.high)))
        return self.dim.from_unit([float(x)])[0]


def to_skopt_dimensions(space: SearchSpace) -> list:
    """The skopt dimensions for the non-constant dimensions of ``space``.

    Parameters
    ----------
    space : SearchSpace
        An hpstudy search space.

    Returns
    -------
    list of skopt.space.Dimension
        In the space's order, constants left out (see the module docstring).
    """
    return [m.sk for m in _maps(space)]


def _maps(space: SearchSpace) -> list[_Map]:
    return [_Map(n, space[n]) for n in space.names if space[n].kind != "constant"]


class SkoptOptimizer:
    """scikit-optimize's ``Optimizer`` as an hpstudy optimizer (by name: ``"skopt"``).

    Parameters
    ----------
    base_estimator : str
        skopt's surrogate: ``"GP"``, ``"RF"``, ``"ET"`` or ``"GBRT"``.
    acq_func : str
        skopt's acquisition: ``"gp_hedge"``, ``"EI"``, ``"LCB"``, ``"PI"`` ...
    n_initial_points : int
        Random points before the surrogate is used (>= 1).
    acq_optimizer : str
        ``"auto"``, ``"sampling"`` or ``"lbfgs"``.

    Examples
    --------
    >>> from hpstudy.optimizers.skopt import SkoptOptimizer
    >>> SkoptOptimizer(acq_func="EI")
    SkoptOptimizer(base_estimator='GP', acq_func='EI', n_initial_points=10)
    """

    def __init__(
        self,
        *,
        base_estimator: str = "GP",
        acq_func: str = "gp_hedge",
        n_initial_points: int = 10,
        acq_optimizer: str = "auto",
    ) -> None:
        for arg, value in (("base_estimator", base_estimator), ("acq_func", acq_func),
                           ("acq_optimizer", acq_optimizer)):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{arg}: must be a non-empty string (got {value!r})")
        n_initial_points = check_int("n_initial_points", n_initial_points, 1)
        self.base_estimator = base_estimator
        self.acq_func = acq_func
        self.n_initial_points = n_initial_points
        self.acq_optimizer = acq_optimizer

    def __repr__(self) -> str:
        return (f"SkoptOptimizer(base_estimator={self.base_estimator!r}, "
                f"acq_func={self.acq_func!r}, n_initial_points={self.n_initial_points!r})")

    def ask(
        self, space: SearchSpace, trials: Trials, n: int, rng: np.random.Generator
    ) -> list[dict[str, Any]]:
        """Replay ``trials`` into a fresh ``skopt.Optimizer`` and ask it for ``n`` points.

        Parameters
        ----------
        space : SearchSpace
            The search space.
        trials : Trials
            Every trial so far (see the module docstring for each state).
        n : int
            How many suggestions (>= 1).
        rng : numpy.random.Generator
            Seeds skopt's ``random_state``.

        Returns
        -------
        list of dict
            ``n`` parameter dicts.

        Raises
        ------
        ConfigError
            When ``space``, ``n``, ``trials`` or ``rng`` is invalid.
        """
        from hpstudy.space import SearchSpace

        if not isinstance(space, SearchSpace):
            raise ConfigError(f"space: must be a SearchSpace (got {type(space).__name__})")
        n = check_int("n", n, 1)
        if not isinstance(trials, Trials):
            raise ConfigError(f"trials: must be a Trials collection (got {type(trials).__name__})")
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(f"rng: must be a numpy.random.Generator (got {type(rng).__name__})")
        maps = _maps(space)
        constants = {nm: space[nm].grid()[0] for nm in space.names if space[nm].kind == "constant"}
        if not maps:
            return [] if len(trials) else [dict(constants)]
        import skopt

        opt = skopt.Optimizer(
            [m.sk for m in maps],
            base_estimator=self.base_estimator,
            acq_func=self.acq_func,
            acq_optimizer=self.acq_optimizer,
            n_initial_points=self.n_initial_points,
            random_state=int(rng.integers(2**31 - 1)),
        )
        X, y = _replay(maps, trials)
        from threadpoolctl import threadpool_limits

        # One BLAS thread, as GPOptimizer: threaded BLAS on small matrices crawls when
        # the cores are busy with trials.
        with threadpool_limits(limits=1, user_api="blas"):
            if X:
                opt.tell(X, y)
            points = opt.ask(n_points=int(n)) if n > 1 else [opt.ask()]
        out = []
        for point in points:
            params = {m.name: m.from_sk(x) for m, x in zip(maps, point, strict=True)}
            params.update(constants)
            out.append(space.validate(params))
        return out


def _replay(maps: list[_Map], trials: Trials) -> tuple[list, list]:
    sign = trials.goal.sign
    rows: list[tuple[TrialState, list, float | None]] = []
    for t in trials:
        try:
            x = [m.to_sk(t.params[m.name]) for m in maps]
        except (KeyError, ValueError, TypeError):
            continue
        v = t.value
        rows.append((t.state, x, -sign * v if v is not None and math.isfinite(v) else None))
    complete = [v for s, _, v in rows if s is TrialState.COMPLETE and v is not None]
    X, y = [], []
    for state, x, v in rows:
        if state is TrialState.COMPLETE and v is not None:
            X.append(x)
            y.append(v)
        elif not complete:
            continue
        elif state is TrialState.RUNNING:
            X.append(x)
            y.append(min(complete))
        else:  # FAILED, PRUNED, or COMPLETE without a finite value
            X.append(x)
            y.append(max(complete) if v is None else max(v, max(complete)))
    return X, y
