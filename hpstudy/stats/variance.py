"""Model change vs tuning vs noise: the variance decomposition of a study.

A study evaluates configurations (trials) on the same folds; the metric of
configuration ``c`` (of architecture ``m``) on fold ``f`` is modelled as

``y = mean + model_m + config_c(m) + fold_f + residual``

* ``model``: the architecture (a fixed factor when there are fewer than
  ``random_model_min`` of them: a variance from 2 levels rests on 1 degree of
  freedom),
* ``config``: hyperparameter configurations within an architecture (tuning),
* ``fold``: how easy each split is, shared by every configuration,
* ``residual``: configuration x fold interaction, seeds, everything else.

Every source is on one scale: its part of the variance of one score of the
study's design, so the four add up to that variance and a share is a fraction
of it. A random factor contributes its variance. A fixed model factor with
effects ``a_i`` (one per architecture, ``n_i`` scores each, ``n`` in all)
contributes the variance of its effects over the design's scores,
``sum(n_i (a_i - a_bar)^2) / n`` (``sum((a_i - a_bar)^2) / k`` when every
architecture has as many configurations). The unbiased spread
``sum((a_i - a_bar)^2) / (k - 1)`` (the F test's scale, ``k / (k - 1)`` times
larger) is kept apart as :attr:`Decomposition.model_spread`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.stats._components import VarianceComponents, variance_components
from hpstudy.stats._frame import StudyData, settle_model_levels, study_data
from hpstudy.stats._results import ResultBase, Table, fmt, interval
from hpstudy.stats.intervals import _check_confidence, percentile_interval

__all__ = ["Decomposition", "Spread", "decompose"]


@attrs.frozen(kw_only=True)
class Spread:
    """Standard deviation and range (max - min) of a set of means, with intervals.

    Attributes
    ----------
    n : int
        How many means.
    sd, sd_interval : float, tuple of float
        Sample standard deviation (ddof 1) and its bootstrap interval.
    range, range_interval : float, tuple of float
        ``max - min`` and its bootstrap interval.
    """

    n: int
    sd: float
    sd_interval: tuple[float, float]
    range: float
    range_interval: tuple[float, float]


@attrs.frozen(kw_only=True)
class Decomposition(ResultBase):
    """The variance of a study's metric split into model, tuning and noise.

    Attributes
    ----------
    fit : VarianceComponents
        The underlying mixed-model fit (factors ``model``, ``config``, ``fold``).
    model_kind : str
        ``"fixed"``, ``"random"`` or ``"absent"``.
    model : str or None
        The parameter naming the architecture (None: a single architecture).
    sources : dict of str to tuple of float
        ``{"model" | "tuning" | "folds" | "residual": (variance, low, high)}``,
        each source's part of the variance of one score of the design (see the
        module notes); for a fixed model factor, the variance of its effects
        over the design's scores, ``sum((a_i - a_bar)^2) / k`` when balanced.
    model_spread : tuple of float or None
        Fixed model factor only: ``(theta, low, high)`` with
        ``theta = sum((a_i - a_bar)^2) / (k - 1)``, the unbiased spread of the
        architectures' effects (``k / (k - 1)`` times ``sources["model"]``); not a
        share of anything.
    model_means : dict of str to float
        Mean metric of each architecture over its configurations and folds.
    best_per_model : dict of str to tuple
        ``(trial number, mean over folds)`` of each architecture's best configuration.
    across_models : Spread or None
        Spread of the architectures' best configurations (matched tuning).
    within_models : dict of str to Spread
        Spread of the configurations' means within each architecture.
    n_configs, n_folds, dropped : int
        Configurations and folds used; configurations left out (pruned, failed,
        running, incomplete folds, or of a model value dropped from the comparison).
    metric, goal : str
        The metric and whether it is maximised.
    confidence : float
        Level of every interval.
    notes : tuple of str
        Which architecture column was used, which configurations and model values
        were left out and why, and other remarks.
    """

    fit: VarianceComponents
    model_kind: str
    model: str | None = None
    sources: dict[str, tuple[float, float, float]]
    model_spread: tuple[float, float, float] | None = None
    model_means: dict[str, float]
    best_per_model: dict[str, tuple[int, float]]
    across_models: Spread | None
    within_models: dict[str, Spread]
    n_configs: int
    n_folds: int
    dropped: int
    metric: str
    goal: str
    confidence: float
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        """The variance of one score of the design: the sum of the (truncated) sources."""
        return sum(max(v[0], 0.0) for v in self.sources.values())

    @property
    def shares(self) -> dict[str, float]:
        """Each source's fraction of :attr:`total` (they add up to 1).

        All NaN when the total is 0 (a constant metric: nothing to share) or
        not finite.
        """
        tot = self.total
        ok = math.isfinite(tot) and tot > 0
        return {k: (max(v[0], 0.0) / tot if ok else math.nan) for k, v in self.sources.items()}

    def _tables(self) -> list[Table]:
        labels = {"model": "model change" + (" (fixed)" if self.model_kind == "fixed" else ""),
                  "tuning": "tuning (configs within model)", "folds": "noise: folds",
                  "residual": "noise: residual"}
        shares = self.shares
        rows = tuple((labels[k], fmt(v), fmt(math.sqrt(max(v, 0.0))), interval(lo, hi),
                      f"{shares[k]:.1%}") for k, (v, lo, hi) in self.sources.items())
        notes = [f"{self.n_configs} configurations x {self.n_folds} folds of {self.metric} "
                 f"({self.goal}); {self.dropped} configurations left out"
                 + (" (see below)." if self.dropped else "."),
                 "share: fraction of the variance of one score of the design "
                 f"({fmt(self.total)}, the sum of the four).",
                 f"{self.confidence:.0%} intervals: {self.fit.interval_method}; solver "
                 f"{self.fit.solver}, method {self.fit.method}."]
        if self.model_spread is not None:
            theta, lo, hi = self.model_spread
            notes.append("model change (fixed): variance of the architectures' effects over the "
                         "design's scores; their unbiased spread sum((a-mean)^2)/(k-1) = "
                         f"{fmt(theta)} {interval(lo, hi)}.")
        if not (self.total > 0):
            notes.append("the metric is constant over the design (total variance 0): no shares.")
        notes.extend(self.notes)
        out = [Table(title="Model change vs tuning vs noise",
                     columns=("source", "variance", "sd", "interval (variance)", "share"),
                     rows=rows, notes=tuple(notes))]
        srows = []
        if self.across_models is not None:
            a = self.across_models
            srows.append(("across models (best config each)", str(a.n), fmt(a.sd),
                          interval(*a.sd_interval), fmt(a.range), interval(*a.range_interval)))
        for m, s in self.within_models.items():
            srows.append((f"configs within {m}", str(s.n), fmt(s.sd), interval(*s.sd_interval),
                          fmt(s.range), interval(*s.range_interval)))
        mrows = tuple((m, fmt(self.model_means[m]), str(n), fmt(v))
                      for m, (n, v) in self.best_per_model.items())
        out.append(Table(title="Standard deviation and range of mean scores",
                         columns=("spread", "n", "sd", "interval", "range", "interval"),
                         rows=tuple(srows),
                         notes=("intervals: bootstrap over folds (configurations held fixed).",)))
        if mrows:
            out.append(Table(title="Architectures", columns=("model", "mean", "best trial", "best mean"),
                             rows=mrows))
        return out


def _spreads(data: StudyData, n_boot: int, conf: float, rng: np.random.Generator):
    """Seed-style figures with a bootstrap over folds."""
    scores, sign = data.scores, data.goal.sign
    c, f = scores.shape
    w = rng.multinomial(f, np.full(f, 1.0 / f), size=n_boot).astype(float) / f
    means = scores.mean(axis=1)
    boot = scores @ w.T  # (configs, n_boot)

    def spread(point: np.ndarray, reps: np.ndarray) -> Spread:
        sds = reps.std(axis=0, ddof=1)
        rngs = reps.max(axis=0) - reps.min(axis=0)
        return Spread(n=len(point), sd=float(point.std(ddof=1)),
                      sd_interval=percentile_interval(sds, conf),
                      range=float(point.max() - point.min()),
                      range_interval=percentile_interval(rngs, conf))

    models = data.models if data.models is not None else np.array(["all"] * c)
    labels = list(dict.fromkeys(models.tolist()))
    within, best, mmeans, best_point, best_boot = {}, {}, {}, [], []
    for m in labels:
        idx = np.flatnonzero(models == m)
        mmeans[m] = float(scores[idx].mean())
        k = idx[int(np.argmax(sign * means[idx]))]
        best[m] = (int(data.numbers[k]), float(means[k]))
        best_point.append(means[k])
        # matched tuning: each resample re-selects the best configuration
        pick = np.argmax(sign * boot[idx], axis=0)
        best_boot.append(boot[idx][pick, np.arange(n_boot)])
        if len(idx) >= 2:
            within[m] = spread(means[idx], boot[idx])
    across = None
    if len(labels) >= 2:
        across = spread(np.array(best_point), np.array(best_boot))
    return within, best, mmeans, across


def decompose(
    trials,
    model: str | None = "auto",
    *,
    method: str = "reml",
    confidence: float = 0.95,
    random_model_min: int = 5,
    n_boot: int = 1000,
    seed: int | None = 0,
    goal=None,
) -> Decomposition:
    """Split the variance of a study's metric into model change, tuning and noise.

    Parameters
    ----------
    trials : Trials or pandas.DataFrame
        A :class:`hpstudy.Trials`, or its ``to_frame(folds=True)`` frame.
    model : str or None, default "auto"
        The parameter naming the architecture (``params.<model>`` column); None
        for a single architecture; ``"auto"``: a categorical parameter named
        like a model (``model``, ``model_name``, ``arch``, ``architecture``,
        ``network``, ``net``, ``backbone``, ``model_type``; any case) if there is
        one, else a single architecture. :attr:`Decomposition.notes` says which.
    method : {"reml", "ml", "anova"}, default "reml"
        Estimation method (see :func:`variance_components`).
    confidence : float, default 0.95
        Level of the intervals.
    random_model_min : int, default 5
        With fewer architectures than this, the model factor is fixed and its
        effect reported as a spread; with as many or more, as a random variance.
    n_boot : int, default 1000
        Fold-bootstrap replicates of the standard deviations and ranges.
    seed : int or None, default 0
        Seed of the bootstraps.
    goal : {"maximize", "minimize"}, optional
        Needed with a DataFrame when the metric is minimised.

    Returns
    -------
    Decomposition

    Warns
    -----
    UserWarning
        With ``model="auto"``, when a value of the detected model parameter has
        fewer than 2 configurations that completed every fold: that value is left
        out of the model comparison, and the warning and :attr:`Decomposition.notes`
        say which value, how many complete configurations it has and why its
        others were left out (pruned, failed, running, incomplete folds).

    Raises
    ------
    ConfigError
        When the study has fewer than 2 folds or 2 complete configurations;
        when ``model`` names the parameter and one of its values has fewer than
        2 complete configurations (a model comparison is refused: the message
        names each such value, its count and why the others were left out, and
        how to get them: ``hpstudy confirm STUDY --per-model NAME``); when
        ``model`` names no column (or ``"auto"`` finds several), or an option
        is out of range.

    Notes
    -----
    Only configurations that completed every fold are used (pruned or failed
    folds would unbalance the design). When every architecture has as many
    configurations, or the model factor is fixed, the fit is closed-form.

    A constant metric (total variance 0) gives NaN shares and says so in the
    summary; it raises nothing.
    """
    conf = _check_confidence(confidence)
    random_model_min = check_int("random_model_min", random_model_min, minimum=2)
    n_boot = check_int("n_boot", n_boot, minimum=10)
    data = study_data(trials, model=model, goal=goal)
    if data.scores.shape[1] < 2:
        raise ConfigError("trials: need at least 2 folds to separate tuning from noise "
                          f"(got {data.scores.shape[1]})")
    data, notes = settle_model_levels(data, model, stacklevel=2)
    return _decompose_data(data, notes=notes, method=method, confidence=conf,
                          random_model_min=random_model_min, n_boot=n_boot, seed=seed)


def _decompose_data(data: StudyData, *, notes: Sequence[str] = (), method: str = "reml",
                   confidence: float = 0.95, random_model_min: int = 5, n_boot: int = 1000,
                   seed: int | None = 0) -> Decomposition:
    """:func:`decompose` of a study's data whose model levels are settled.

    ``data`` comes from :func:`~hpstudy.stats._frame.settle_model_levels`; ``notes``
    are the notes it returned (which model levels it dropped, and why).
    """
    import pandas as pd

    c, f = data.scores.shape
    if c < 2:
        raise ConfigError(f"trials: need at least 2 configurations that completed every fold "
                          f"to decompose (got {c})" + "".join(f"; {n}" for n in notes))
    if f < 2:
        raise ConfigError(f"trials: need at least 2 folds to separate tuning from noise (got {f})")
    long = pd.DataFrame({"y": data.scores.ravel(), "config": np.repeat(np.arange(c), f),
                         "fold": np.tile(np.arange(f), c)})
    n_models = 0 if data.models is None else len(set(data.models.tolist()))
    kind = "absent" if n_models < 2 else ("random" if n_models >= random_model_min else "fixed")
    random: list[str] = ["config", "fold"]
    fixed: list[str] = []
    nested: dict[str, str] = {}
    if kind != "absent" and data.models is not None:
        long["model"] = np.repeat(data.models, f)
        nested = {"config": "model"}
        counts = pd.Series(data.models).value_counts()
        if counts.min() < 2:  # settle_model_levels refuses or drops such levels first
            raise ConfigError(f"model: every architecture needs >= 2 complete configurations "
                              f"(got {counts.to_dict()})")
        (random if kind == "random" else fixed).insert(0, "model")
    fit = variance_components(long, "y", random=random, fixed=fixed, nested=nested, method=method,
                              confidence=confidence, seed=seed)
    sources, spread = {}, None
    if kind == "random":
        sources["model"] = (fit.components["model"], *fit.intervals["model"])
    elif kind == "fixed":
        spread = fit.fixed_spread.get("model", (math.nan, math.nan, math.nan))
        # theta = sum((a_i - a_bar)^2)/(k-1) (n_i-weighted when unbalanced); over the
        # design's scores the effects vary by (k-1)/k of it
        est, lo, hi = (v * (n_models - 1) / n_models for v in spread)
        sources["model"] = (est, lo, hi)
    nan2 = (math.nan, math.nan)
    sources["tuning"] = (fit.components["config"], *fit.intervals.get("config", nan2))
    sources["folds"] = (fit.components["fold"], *fit.intervals.get("fold", nan2))
    sources["residual"] = (fit.residual, *fit.intervals.get("Residual", nan2))
    within, best, mmeans, across = _spreads(data, n_boot, confidence,
                                            np.random.default_rng(seed))
    if kind == "absent":
        best, mmeans = {}, {}
    return Decomposition(
        fit=fit, model_kind=kind, model=data.model, sources=sources, model_spread=spread,
        model_means=mmeans, best_per_model=best, across_models=across, within_models=within,
        n_configs=c, n_folds=f, dropped=data.dropped, metric=data.metric, goal=data.goal.value,
        confidence=confidence,
        notes=(data.model_note, *filter(None, [data.dropped_note()]), *notes),
    )
