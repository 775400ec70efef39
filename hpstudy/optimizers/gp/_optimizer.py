"""GPOptimizer: ask and tell, on the GP model, acquisition and encoding of this package."""

from __future__ import annotations

import functools
import itertools
import math
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import qmc

from hpstudy._validation import check_choice, check_int
from hpstudy.errors import ConfigError
from hpstudy.optimizers._balance import check_balance
from hpstudy.optimizers.gp import _balance
from hpstudy.optimizers.gp._acquisition import AcquisitionSpec, maximize_acquisition
from hpstudy.optimizers.gp._data import ThetaCache, collect, transform_targets
from hpstudy.optimizers.gp._encoding import Encoder
from hpstudy.optimizers.gp._kernel import cross_sqdist
from hpstudy.optimizers.gp._model import GPModel
from hpstudy.trials import Trials

if TYPE_CHECKING:
    from hpstudy.space import SearchSpace

__all__ = ["GPOptimizer"]

_ACQUISITIONS = ("ei", "ucb")
_FAILED = ("worst", "ignore")
_PRUNED = ("worst", "rung", "pending")
#: Finite spaces up to this size are enumerated when random candidates run dry.
_ENUMERATE_MAX = 20_000
#: Candidates of the initial design's step (None: ``MAXPRO_CANDIDATES`` for "maxpro", else
#: ``n_candidates // 4`` rounded to a power of 2; 1 makes the design uniformly random).
DESIGN_CANDIDATES: int | None = None
#: The initial design's step: "auto" (the default: "maxpro" on spaces with both unordered
#: categorical and continuous columns, "torus" on the others), "maxpro" (the candidate
#: whose smallest mean log per-column distance to the points so far is largest: spread in
#: every one-column projection too), "torus" (maximin with wrap-around distance on
#: continuous columns; before issue 10's catcont6 study, everywhere) or "box" (maximin with
#: the box's Euclidean distance: before the Ackley fix of issue 10; it piles points on the
#: faces). Measured in docs/gp.rst: "maxpro" everywhere also cleared the noisy Hartmann
#: row but cost the (noisy) Ackley rows.
DESIGN_DISTANCE = "auto"
#: Candidates of the "maxpro" step: few, so the step keeps some of a random design's spread
#: of pairwise distances (with hundreds its points sit on a lattice-like pattern; measured
#: worse on Ackley: see docs/gp.rst).
MAXPRO_CANDIDATES = 32
#: A value shared by two points in a discrete column counts, in the "maxpro" step, as a
#: distance of ``MAXPRO_SHARED / k`` (``k`` the column's number of values): 0.01, nearly
#: as bad as a shared continuous coordinate, so a categorical column's first ``k`` design
#: points take its ``k`` values (1.0, a third of the time they did not: measured no better).
MAXPRO_SHARED = 0.01
#: The smallest initial design when ``n_initial`` is None: ``max(INITIAL_MIN, d + 1)``.
INITIAL_MIN = 5
#: How :func:`initial_size` counts ``d`` on mixed spaces (unordered categorical and
#: continuous columns): "dof" (the default) counts a categorical column of ``k`` values as
#: ``k - 1`` (the parameters of a main-effects model); "columns" counts every column once
#: (before issue 10's catcont6 replication). Other spaces count columns either way.
INITIAL_RULE = "dof"
#: Every this-many-th ask (counted by the observations the fit sees: ``n % NOISE_FREE_EVERY
#: == 0``) fits the hyperparameters with the noise prior at its floor (an interpolating
#: model); the others fit the noise level. 0: never. A noisy fit calls a rugged deterministic
#: objective's ripples noise and then clusters its search; a noise-free fit alone calls an
#: objective's noise ripples. Alternating hedges between the two (issue 10, docs/gp.rst).
NOISE_FREE_EVERY = 2
#: EI's incumbent: "mean" (the best posterior mean at an observed point) or "observed"
#: (the best observed target, GPSampler's).
INCUMBENT = "mean"


class GPOptimizer:
    """Bayesian optimisation with a Gaussian process (Matérn 5/2, ARD) and log EI.

    Asks alternate between two fits of the GP's hyperparameters: with the noise
    level fitted (an odd number of observations) and with it held near zero (an
    even number: a noise-free, interpolating fit). That hedges between noisy and
    rugged deterministic objectives (``docs/gp.rst``).

    Parameters
    ----------
    n_initial : int or None
        Size of the initial space-filling design before the model takes over;
        None means ``max(5, d + 1)`` for ``d`` non-constant dimensions, where on a
        space that mixes unordered categorical and continuous dimensions a
        categorical of ``k`` values counts ``k - 1`` (see :func:`initial_size`).
    acquisition : {"ei", "ucb"}
        Log expected improvement (default) or upper confidence bound.
    kappa : float
        UCB's multiple of the posterior standard deviation (> 0).
    failed : {"worst", "ignore"}
        Failed trials imputed with the worst observed value (default), or not
        modelled. They are never suggested again either way.
    pruned : {"rung", "worst", "pending"}
        Pruned trials imputed from the trials that passed the step they were
        stopped at (``"rung"``, default: their rank among the values judged there,
        mapped onto those trials' final values; see ``docs/gp.rst``); or with the
        worse of their last value and the worst complete value (``"worst"``, the
        rule before); or left out of the fit and avoided like running trials.
    n_candidates : int
        Size of the Sobol candidate sweep that seeds the acquisition search (>= 16).
    n_starts : int
        Candidates polished by L-BFGS-B (>= 1).
    warp_outputs : bool or "auto"
        Warp the standardised targets with a Yeo-Johnson power transform
        (maximum likelihood exponent) before the GP sees them: always (True),
        never (False) or, by default, when their skewness exceeds 2 in
        magnitude (long-tailed metrics such as losses that sometimes diverge).
    balance : str, optional
        A categorical parameter (``"model_name"``): while one of its values has
        fewer than ``min_per_value`` complete configurations, the next suggestion
        is constrained to that value (see ``docs/gp.rst``), so that a model
        comparison gets every model.
    min_per_value : int
        Complete configurations wanted for each value of ``balance`` (default 2).

    Examples
    --------
    >>> from hpstudy.optimizers.gp import GPOptimizer
    >>> GPOptimizer(acquisition="ucb", kappa=2.5)
    GPOptimizer(n_initial=None, acquisition='ucb', kappa=2.5, failed='worst', pruned='rung')
    """

    kappa: float
    failed: str
    pruned: str
    n_candidates: int
    n_starts: int
    warp_outputs: bool | str
    balance: str | None = None  # class defaults: optimizers pickled before balance existed
    min_per_value: int = 2
    _cache: ThetaCache

    def __init__(
        self,
        *,
        n_initial: int | None = None,
        acquisition: str = "ei",
        kappa: float = 2.0,
        failed: str = "worst",
        pruned: str = "rung",
        n_candidates: int = 1024,
        n_starts: int = 5,
        warp_outputs: bool | str = "auto",
        balance: str | None = None,
        min_per_value: int = 2,
    ) -> None:
        self.n_initial = None if n_initial is None else check_int("n_initial", n_initial, 1)
        self.acquisition = check_choice("acquisition", acquisition, _ACQUISITIONS)
        if isinstance(kappa, bool) or not isinstance(kappa, Real) or not kappa > 0 \
                or not math.isfinite(kappa):
            raise ConfigError(f"kappa: must be a number > 0 (got {kappa!r})")
        self.kappa = float(kappa)
        self.failed = check_choice("failed", failed, _FAILED)
        self.pruned = check_choice("pruned", pruned, _PRUNED)
        self.n_candidates = check_int("n_candidates", n_candidates, 16)
        self.n_starts = check_int("n_starts", n_starts, 1)
        if not (isinstance(warp_outputs, bool) or warp_outputs == "auto"):
            raise ConfigError(f"warp_outputs: must be True, False or 'auto' (got {warp_outputs!r})")
        self.warp_outputs = warp_outputs
        self.balance = check_balance(balance)
        self.min_per_value = _balance.check(min_per_value)
        self._cache = ThetaCache(warp=warp_outputs)
        self._encoders: dict[int, tuple[Any, Encoder]] = {}

    def __repr__(self) -> str:
        return (
            f"GPOptimizer(n_initial={self.n_initial!r}, acquisition={self.acquisition!r}, "
            f"kappa={self.kappa!r}, failed={self.failed!r}, pruned={self.pruned!r}"
            f"{_balance.describe(self.balance, self.min_per_value)})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"], state["_encoders"] = ThetaCache(warp=self.warp_outputs), {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _encoder(self, space: SearchSpace) -> Encoder:
        hit = self._encoders.get(id(space))
        if hit is not None and hit[0] is space:
            return hit[1]
        enc = Encoder(space)
        self._encoders = {id(space): (space, enc)}
        return enc

    def ask(
        self, space: SearchSpace, trials: Trials, n: int, rng: np.random.Generator
    ) -> list[dict[str, Any]]:
        """Suggest up to ``n`` new, distinct parameter dicts.

        Parameters
        ----------
        space : SearchSpace
            The search space.
        trials : Trials
            Every trial so far; RUNNING ones are pending points.
        n : int
            How many suggestions (>= 1).
        rng : numpy.random.Generator
            The only source of randomness.

        Returns
        -------
        list of dict
            ``n`` suggestions, fewer only when a finite space is exhausted.

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
        # One BLAS thread: the matrices are small, and threaded BLAS on small matrices runs
        # ten times slower when the cores are busy with trials (measured).
        with _blas_controller().limit(limits=1, user_api="blas"):
            return self._ask(space, trials, n, rng)

    def _ask(
        self, space: SearchSpace, trials: Trials, n: int, rng: np.random.Generator
    ) -> list[dict[str, Any]]:
        enc = self._encoder(space)
        if enc.n_columns == 0:
            return [] if len(trials) else [enc.decode(np.zeros((1, 0)))[0]]
        plan = None if self.balance is None else _balance.BalancePlan(
            enc, space, trials, self.balance, self.min_per_value)
        data = collect(enc, trials, self.failed, self.pruned)
        n_init = self.n_initial or initial_size(enc)
        exclude = set(data.keys)
        chosen: list[np.ndarray] = []
        y = np.asarray(data.y, dtype=float)
        model = None
        if len(y) >= n_init and np.ptp(y) > 0:
            X = np.asarray(data.X)
            # hyperparameters from the observed rows only; imputed ones join the GP after
            fit_X, fit_y = data.fit_set()
            noise_free = NOISE_FREE_EVERY > 0 and len(fit_y) % NOISE_FREE_EVERY == 0
            theta = self._cache.fit(fit_X, fit_y, enc.is_cat, noise_free)
            ys = transform_targets(y, self.warp_outputs)
            model = GPModel(X, ys, enc.is_cat, theta)
            # Plug-in incumbent: the best posterior mean at an observed point (noisy data).
            incumbent = float(np.max(model.predict(X)[0] if INCUMBENT == "mean" else ys))
            if data.pending:
                model = model.with_fantasies(np.asarray(data.pending))
                # Kriging believer: a fantasy counts as observed at the posterior mean.
                incumbent = max(incumbent, float(np.max(model.y[len(X):])))
            acq = AcquisitionSpec(self.acquisition, incumbent, self.kappa)
        for _ in range(n):
            x = None
            forced = None if plan is None else plan.forced()
            if forced is not None:
                score = None if model is None else functools.partial(acq.value, model)
                x = plan.point(forced, enc, rng, exclude, data.X + data.pending + chosen,  # type: ignore[union-attr]
                               self.n_candidates, score, farthest)
            elif model is not None:
                x = maximize_acquisition(
                    acq, model, enc, rng, exclude,
                    n_sobol=self.n_candidates, n_starts=self.n_starts,
                )
            if x is None:
                others = data.X + data.pending + chosen
                x = _maximin_point(enc, space, rng, others, exclude, self.n_candidates)
            if x is None:
                break  # a finite space with nothing left
            chosen.append(x)
            if plan is not None:
                plan.add(x)
            exclude.add(enc.key(x))
            if model is not None:
                model = model.with_fantasies(x[None])
                acq.best = max(acq.best, float(model.y[-1]))
        return [space.validate(p) for p in enc.decode(np.asarray(chosen))] if chosen else []


@functools.lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _maximin_point(
    enc: Encoder,
    space: Any,
    rng: np.random.Generator,
    others: list[np.ndarray],
    exclude: set,
    n_candidates: int,
) -> np.ndarray | None:
    """The next point of the initial design: the candidate farthest from every point so far.

    "Farthest" is :data:`DESIGN_DISTANCE`'s ("auto": "maxpro" on mixed spaces of
    unordered categorical and continuous columns, else "torus"). On continuous
    columns every distance but "box" wraps around (``min(|dx|, 1 - |dx|)``, as on a
    torus): with the Euclidean distance of the box, the farthest candidate sits on a
    face or in a corner, where a third of the coordinates of a 6-point design in 5-D
    landed; wrapped, as many as for uniform points (a tenth within 5 % of a face).
    The "maxpro" step (:func:`_maxpro_score`, over :data:`MAXPRO_CANDIDATES` Sobol
    candidates) also keeps the points apart in every single column: with "torus"
    the smallest one-column gaps of a 6-point design in 5-D were those of uniform
    points, with "maxpro" 2.4 times larger (1.7 times with a categorical column
    too). On ``catcont6`` that moved the GP from behind GPSampler to tied at 25 and
    50 evaluations; on continuous spaces it helped the noisy Hartmann function but
    hurt (noisy) Ackley, so they keep "torus".
    """
    rule = design_rule(enc)
    m = 1 << max(4, int(math.log2(max(16, n_candidates // 4))))
    if rule == "maxpro":
        m = MAXPRO_CANDIDATES
    if DESIGN_CANDIDATES:
        m = DESIGN_CANDIDATES
    U = qmc.Sobol(enc.n_columns, scramble=True, seed=rng).random(m)
    cands = enc.from_cube(U)
    keep = np.array([enc.key(c) not in exclude for c in cands], dtype=bool)
    cands = cands[keep]
    if len(cands) == 0:
        unseen = _enumerate_unseen(enc, space, exclude)
        if unseen is None or len(unseen) == 0:
            return None
        cands = unseen
    if not others:
        return cands[0]
    return cands[farthest(cands, others, enc, rule)]


def _mixed(enc: Encoder) -> bool:
    """Whether the space has both unordered categorical and continuous columns."""
    return bool(enc.is_cat.any() and enc.cont_mask.any())


def initial_size(enc: Encoder) -> int:
    """The initial design's size when ``n_initial`` is None: ``max(INITIAL_MIN, d + 1)``.

    ``d`` is the number of columns, except on mixed spaces (the "maxpro" design's), where
    a categorical column of ``k`` values counts ``k - 1``: the design then has room for
    every category of each column beside the continuous box (see :data:`INITIAL_RULE`).
    """
    d = enc.n_columns
    if INITIAL_RULE == "dof" and _mixed(enc):
        d += sum(col.k - 2 for col, cat in zip(enc.columns, enc.is_cat, strict=True) if cat)
    return max(INITIAL_MIN, d + 1)


def design_rule(enc: Encoder) -> str:
    """:data:`DESIGN_DISTANCE`, with "auto" resolved for the space of ``enc``."""
    if DESIGN_DISTANCE == "auto":
        return "maxpro" if _mixed(enc) else "torus"
    return DESIGN_DISTANCE


def farthest(cands: np.ndarray, others: list[np.ndarray], enc: Encoder,
             rule: str | None = None) -> int:
    """The index of the candidate farthest from every row of ``others`` (not empty), by
    the design's distance ``rule`` (default: :func:`design_rule`; see
    :func:`_maximin_point`)."""
    rule = design_rule(enc) if rule is None else rule
    D = cross_sqdist(cands, np.asarray(others), enc.is_cat)
    if rule == "maxpro":
        return int(np.argmax(_maxpro_score(D, enc).min(axis=1)))
    if rule == "torus":
        # wrap-around distance on the continuous columns: no pull towards the box's faces
        cont = enc.cont_mask
        D[cont] = np.minimum(np.sqrt(D[cont]), 1.0 - np.sqrt(D[cont])) ** 2
    return int(np.argmax(D.sum(axis=0).min(axis=1)))


def _maxpro_score(D: np.ndarray, enc: Encoder) -> np.ndarray:
    """Mean log per-column squared distance, shape ``(n_candidates, n_others)``.

    The criterion of maximum projection designs (Joseph, Gul and Ba 2015, "Maximum
    projection designs for computer experiments"): it is very small when a candidate
    shares any one coordinate with a point, so the design's points differ in every
    column, not only overall. Continuous columns use the wrap-around distance (no pull
    towards the faces); a discrete column's shared value counts as a distance of
    ``MAXPRO_SHARED / k`` (``k`` its number of values: below any two different values'
    distance), a different category as 1.
    """
    D = D.copy()
    cont = enc.cont_mask
    D[cont] = np.minimum(np.sqrt(D[cont]), 1.0 - np.sqrt(D[cont])) ** 2
    for j, c in enumerate(enc.columns):
        if not cont[j]:
            k = max(2, len(c.levels) if c.levels is not None else 2)
            D[j] = np.maximum(D[j], (MAXPRO_SHARED / k) ** 2)
    return np.log(D + 1e-12).mean(axis=0)


def _enumerate_unseen(enc: Encoder, space: Any, exclude: set) -> np.ndarray | None:
    """Every unseen point of a finite space, or None when it is too large to list."""
    if any(c.kind == "num" and c.levels is None for c in enc.columns):
        return None
    sizes = [len(c.levels) for c in enc.columns]  # type: ignore[arg-type]
    if math.prod(sizes) > _ENUMERATE_MAX:
        return None
    levels = [np.asarray(c.levels) for c in enc.columns]  # every column has levels (above)
    rows = np.array(list(itertools.product(*levels)), dtype=np.float64)
    rows = rows.reshape(-1, enc.n_columns)
    keep = np.array([enc.key(r) not in exclude for r in rows], dtype=bool)
    return rows[keep]
