"""Report sections computed with :mod:`hpstudy.stats`, with their numbers in plain words.

Importance (intervals clipped to [0, 1], the forest's R^2 stated), the variance
decomposition (model / tuning / noise) and the seed's spreads, per-model
distributions across folds, and best vs runner-up with the winner's curse.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import attrs
import numpy as np

from hpstudy.errors import ConfigError
from hpstudy.report._data import mean_interval, score_matrix
from hpstudy.report._records import (
    ComparisonData,
    DistributionsData,
    ImportanceData,
    ImportanceRow,
    ModelScores,
    ScoreMatrix,
    Section,
    degenerate,
)
from hpstudy.trials import Trials

if TYPE_CHECKING:
    from hpstudy.stats import BayesianComparison, CorrectedTTest, SelectionBias

__all__ = ["Units", "comparison_section", "decomposition_section", "distributions_section",
           "importance_section"]


@attrs.frozen(kw_only=True)
class Units:
    """How to write differences of the metric: in points (hundredths) for [0, 1] metrics."""

    points: bool
    metric: str

    @classmethod
    def of(cls, trials: Trials) -> Units:
        vals = [t.value for t in trials.complete if t.value is not None and math.isfinite(t.value)]
        return cls(points=bool(vals) and all(0.0 <= v <= 1.0 for v in vals), metric=trials.metric)

    def diff(self, d: float) -> str:
        """A difference in words: ``"1.8 points"`` or ``"0.0183"``."""
        if not math.isfinite(d):
            return "undetermined"
        if self.points:
            return f"{100 * d:.1f} point" + ("" if abs(round(100 * d, 1)) == 1 else "s")
        return f"{d:.3g}"

    def value(self, v: float) -> str:
        """A value of the metric, 4 significant digits."""
        return f"{v:.4g}" if math.isfinite(v) else "undetermined"

    @property
    def note(self) -> str:
        """What a point is."""
        return (f"A point is 0.01 of {self.metric} (one percentage point)." if self.points
                else f"Differences are in units of {self.metric}.")


def _share(v: float) -> str:
    return "under 1%" if 0 < v < 0.005 else f"{v:.0%}"


def _plain(exc: Exception) -> str:
    """A stats error without its leading argument name (``"X: needs..."``), for readers."""
    text = str(exc).rstrip(".")
    head, sep, rest = text.partition(": ")
    return rest if sep and head.isidentifier() and len(head) <= 12 else text


def _unit(v: float) -> float:
    return min(max(v, 0.0), 1.0)


def importance_section(trials: Trials, seed: int = 0) -> Section:
    """Hyperparameter importance with per-tree intervals clipped to [0, 1] and the forest's R^2."""
    from hpstudy.stats import importance

    title = "Hyperparameter importance"
    try:
        imp = importance(trials, seed=seed)
    except ConfigError as exc:
        return Section(key="importance", title=title,
                       reason=f"Importance could not be computed: {_plain(exc)}.")
    order = sorted(imp.shares, key=lambda k: -imp.shares[k])
    rows = []
    for k in [*order, "interactions"]:
        share = imp.interactions if k == "interactions" else imp.shares[k]
        lo, hi = imp.intervals[k]
        rows.append(ImportanceRow(name=k, share=_unit(share), low=_unit(lo), high=_unit(hi)))
    notes = [f"A random forest fitted to {imp.n_configs} configurations explains "
             f"{imp.r2_oob:.0%} of the metric's variance out of bag (R² = {imp.r2_oob:.2f}).",
             "Each share is the fraction of the metric's variance explained by that parameter "
             "alone; \"interactions\" is what parameters explain only together. The error bar "
             f"spans the middle {imp.confidence:.0%} of the forest's trees (each tree gives its "
             "own share), clipped to [0, 1]."]
    if imp.r2_oob < 0.1:
        notes.append("Warning: the forest predicts the metric poorly (R² < 0.1); these shares "
                     "describe noise rather than the parameters' effect.")
    return Section(key="importance", title=title,
                   data=ImportanceData(rows=tuple(rows), r2=imp.r2_oob, result=imp),
                   notes=tuple(notes))


def decomposition_section(trials: Trials, model: str | None, seed: int = 0) -> Section:
    """Model change vs tuning vs noise, with intervals, and the seed's SD and range figures."""
    from hpstudy.stats import decompose

    title = "Model change vs tuning vs noise"
    try:
        with warnings.catch_warnings():  # what it warns about is in dec.notes, shown below
            warnings.simplefilter("ignore", UserWarning)
            dec = decompose(trials, model=model, seed=seed)
    except ConfigError as exc:
        return Section(key="decomposition", title=title,
                       reason=f"The variance decomposition could not be computed: {_plain(exc)}.")
    shares = dec.shares
    label = {"model": "model change", "tuning": "tuning", "folds": "noise: folds",
             "residual": "noise: residual"}
    parts = [f"{label[k]} {_share(shares[k])}" for k in dec.sources if math.isfinite(shares[k])]
    notes = [f"Of the variance of {dec.metric} over {dec.n_configs} configurations x "
             f"{dec.n_folds} folds: " + ", ".join(parts) + "."]
    if dec.model_kind == "fixed":
        notes.append("With fewer than 5 models, the model effect is fixed: its share is the "
                     "variance of these models' effects over the study's scores (these models "
                     "only, not models in general); its interval is wide.")
    elif dec.model_kind == "absent":
        notes.append("One architecture only: there is no model-change component.")
    # which configurations and model values were left out, and why (after the model note)
    notes.extend(n[:1].upper() + n[1:] + ("" if n.endswith(".") else ".") for n in dec.notes[1:])
    notes.append(f"Intervals at {dec.confidence:.0%}: {dec.fit.interval_method}.")
    spreads = [*([dec.across_models] if dec.across_models is not None else []),
               *dec.within_models.values()]
    if spreads:
        notes.append("The intervals of the SD and range of mean scores come from resampling the "
                     "folds: they show how much fold-to-fold noise moves these spreads, not how "
                     "much they would change had other configurations been tried.")
    if any(degenerate(s.sd_interval) or degenerate(s.range_interval) for s in spreads):
        notes.append("Some of these intervals could not be estimated: every resample of the "
                     "folds gave the same spread, which happens when a fold shifts all "
                     "configurations' scores by the same amount. That does not make the spread "
                     "certain; more configurations, or repeated folds, would tell.")
    return Section(key="decomposition", title=title, data=dec, notes=tuple(notes))


def distributions_section(trials: Trials, model: str | None) -> Section:
    """Per model: the configurations' mean scores, and its best configuration on each fold."""
    title = "Scores per model across folds"
    m = score_matrix(trials)
    if m.scores.size == 0:
        return Section(key="distributions", title=title,
                       reason="No trial completed every fold, so there is no distribution to show.")
    by_number = {t.number: t for t in trials}
    labels = [str(by_number[int(n)].params.get(model, "all")) if model else "all"
              for n in m.numbers]
    sign = trials.goal.sign
    means = m.scores.mean(axis=1)
    models: dict[str, ModelScores] = {}
    for lab in sorted(set(labels)):
        idx = np.flatnonzero(np.array(labels) == lab)
        best = idx[int(np.argmax(sign * means[idx]))]
        models[lab] = ModelScores(means=means[idx], numbers=m.numbers[idx],
                                  best=int(m.numbers[best]), best_folds=m.scores[best])
    notes = [f"{len(m.numbers)} configurations scored on every one of {len(m.folds)} folds."]
    if m.scores.shape[1] < 2:
        notes.append("One fold per configuration: the fold-to-fold spread cannot be shown.")
    return Section(key="distributions", title=title,
                   data=DistributionsData(models=models, folds=m.folds, metric=trials.metric),
                   notes=tuple(notes))


def _words(trials: Trials, m: ScoreMatrix, units: Units, rope: float, seed: int,
           confidence: float) -> ComparisonData:
    from hpstudy.stats import bayesian_ttest, bbc_cv, corrected_ttest

    goal, sign = trials.goal, trials.goal.sign
    means = m.scores.mean(axis=1)
    order = np.argsort(-sign * means, kind="stable")
    b, r = int(order[0]), int(order[1])
    nb, nr = int(m.numbers[b]), int(m.numbers[r])
    ratio = m.test_train_ratio
    k = m.scores.shape[1]
    tt: CorrectedTTest | None = None
    by: BayesianComparison | None = None
    sel: SelectionBias | None = None
    ci = mean_interval(m.scores[b], ratio, confidence)
    text = [f"Trial {nb} has the best mean {trials.metric}, {units.value(means[b])}"
            + (f" ({confidence:.0%} interval {units.value(ci[0])} to {units.value(ci[1])} over "
               f"{k} folds)" if ci and not degenerate(ci) else "")
            + f"; the runner-up, trial {nr}, has {units.value(means[r])} "
              f"({units.diff(sign * (means[b] - means[r]))} behind)."]
    diff = sign * (m.scores[b] - m.scores[r])  # > 0: the best is better
    if k >= 2 and ratio is not None and np.ptp(diff) > 0:
        tt = corrected_ttest(diff, np.zeros_like(diff), test_train_ratio=ratio,
                             alternative="greater", confidence=confidence)
        by = bayesian_ttest(diff, np.zeros_like(diff), rope=rope, test_train_ratio=ratio,
                            confidence=confidence)
        rope_txt = units.diff(rope)
        text.append(f"Trial {nb} is better than trial {nr} with probability "
                    f"{by.prob_positive:.2f}; the difference is within {rope_txt} (practically "
                    f"equivalent) with probability {by.prob_equivalent:.2f}, and trial {nb} is "
                    f"better by more than {rope_txt} with probability {by.prob_a_better:.2f} "
                    "(Bayesian correlated t-test).")
        text.append(f"The difference is {units.diff(tt.mean_difference)} ({confidence:.0%} "
                    f"interval {units.diff(tt.interval[0])} to {units.diff(tt.interval[1])}); the "
                    f"corrected t-test gives p = {tt.p_value:.2g} for 'trial {nb} is better'"
                    + (", so the ranking could be luck." if tt.p_value > 0.05 else "."))
    elif k < 2:
        text.append("With one evaluation per trial there is no paired comparison: evaluate on "
                    "folds to know whether the difference is real.")
    elif ratio is None:
        text.append("One fold per repeat: the overlap of training sets is unknown, so no test.")
    else:
        text.append("The two differ by the same amount on every fold; no test is needed.")
    if k >= 3:
        sel = bbc_cv(m.scores, goal=goal, confidence=confidence, seed=seed)
        fair = (f"A fair estimate of what the chosen configuration will score is "
                f"{units.value(sel.estimate)} ({confidence:.0%} interval "
                f"{units.value(sel.interval[0])} to {units.value(sel.interval[1])}; BBC-CV).")
        if sel.optimism > 0 and units.diff(sel.optimism) != units.diff(0.0):
            text.append(f"The best score is about {units.diff(sel.optimism)} optimistic (winner's "
                        f"curse): choosing the best of {m.scores.shape[0]} configurations on the "
                        f"same {k} folds favours the lucky one. " + fair)
        else:
            text.append("The best score shows no measurable optimism (winner's curse): the "
                        "best configuration wins on every resample of the folds. " + fair)
    else:
        text.append("The winner's curse needs at least 3 folds to be estimated.")
    return ComparisonData(best=(nb, float(means[b])), runner_up=(nr, float(means[r])),
                          sentences=tuple(text), ttest=tt, bayes=by, selection=sel)


def comparison_section(trials: Trials, *, rope: float | None = None, seed: int = 0,
                       confidence: float = 0.95) -> Section:
    """Best vs runner-up in words, and the winner's curse."""
    title = "Best vs runner-up"
    m = score_matrix(trials)
    if m.scores.shape[0] < 2:
        return Section(key="comparison", title=title,
                       reason=f"Comparing needs at least 2 trials that completed every fold "
                              f"(have {m.scores.shape[0]}).")
    units = Units.of(trials)
    if rope is None:  # 1 point, or 1% of the best mean for other metrics
        best = float(np.max(np.abs(m.scores.mean(axis=1))))
        rope = 0.01 if units.points else (0.01 * best if best > 0 else 0.01)
    data = _words(trials, m, units, rope, seed, confidence)
    return Section(key="comparison", title=title, data=data, notes=(units.note,))
