"""``analyze``: the whole statistical report of a study in one call."""

from __future__ import annotations

import attrs
import numpy as np

from hpstudy.errors import ConfigError
from hpstudy.stats._frame import settle_model_levels, study_data
from hpstudy.stats._results import ResultBase, Table, fmt
from hpstudy.stats.compare import (
    BayesianComparison,
    CorrectedTTest,
    bayesian_ttest,
    corrected_ttest,
)
from hpstudy.stats.importance import Importance, importance
from hpstudy.stats.intervals import _check_confidence
from hpstudy.stats.selection import SelectionBias, bbc_cv
from hpstudy.stats.variance import Decomposition, _decompose_data

__all__ = ["Analysis", "analyze"]


@attrs.frozen(kw_only=True)
class Analysis(ResultBase):
    """Everything :func:`analyze` found, each part a result of its own.

    Attributes
    ----------
    decomposition : Decomposition or None
        Model change vs tuning vs noise (None with fewer than 2 folds).
    importance : Importance or None
        Hyperparameter importance (None when it could not be computed).
    best, runner_up : tuple of (int, float)
        ``(trial number, mean over folds)`` of the two best configurations.
    comparison : CorrectedTTest or None
        Best vs runner-up, corrected resampled t-test on their paired folds.
    bayesian : BayesianComparison or None
        The same pair, Bayesian correlated t-test with the rope.
    selection : SelectionBias or None
        The winner's curse: bias-corrected score of the best configuration.
    model : str or None
        The parameter naming the architecture (None: a single architecture).
    notes : tuple of str
        Which architecture parameter was used (first), which configurations and
        model values were left out and why (pruned, failed, running, incomplete
        folds), why a part is missing, and other remarks.
    """

    decomposition: Decomposition | None
    importance: Importance | None
    best: tuple[int, float]
    runner_up: tuple[int, float]
    comparison: CorrectedTTest | None
    bayesian: BayesianComparison | None
    selection: SelectionBias | None
    model: str | None = None
    notes: tuple[str, ...] = ()

    def _tables(self) -> list[Table]:
        head = Table(title="Study analysis", columns=("", "trial", "mean score"),
                     rows=(("best", str(self.best[0]), fmt(self.best[1])),
                           ("runner-up", str(self.runner_up[0]), fmt(self.runner_up[1]))),
                     notes=self.notes)
        out = [head]
        for part in (self.selection, self.comparison, self.bayesian, self.decomposition,
                     self.importance):
            if part is not None:
                out.extend(part._tables())
        return out


def _fold_ratio(folds: tuple[tuple[int, int], ...]) -> float | None:
    per_repeat: dict[int, int] = {}
    for r, _ in folds:
        per_repeat[r] = per_repeat.get(r, 0) + 1
    k = min(per_repeat.values())
    return 1.0 / (k - 1) if k >= 2 else None


def analyze(
    trials,
    model: str | None = "auto",
    *,
    goal=None,
    test_train_ratio: float | None = None,
    rope: float = 0.01,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> Analysis:
    """Analyse a study: decomposition, importance, best vs runner-up, winner's curse.

    Parameters
    ----------
    trials : Trials or pandas.DataFrame
        A :class:`hpstudy.Trials` (its ``to_frame(folds=True)``, ``goal`` and
        ``metric`` are used) or such a frame.
    model : str or None, default "auto"
        The parameter naming the architecture; None for a single architecture;
        ``"auto"``: a categorical parameter named like a model (``model``,
        ``model_name``, ``arch``, ``architecture``, ``network``, ``net``,
        ``backbone``, ``model_type``; any case) if the study has one, else a
        single architecture. The notes say which was used.
    goal : {"maximize", "minimize"}, optional
        For a DataFrame whose metric is minimised.
    test_train_ratio : float, optional
        ``n_test / n_train`` of a fold for the corrected t-test; default
        ``1 / (k - 1)`` for k folds per repeat.
    rope : float, default 0.01
        Region of practical equivalence of the Bayesian comparison.
    confidence : float, default 0.95
        Level of every interval.
    seed : int or None, default 0
        Seed of every bootstrap and of the forest.

    Returns
    -------
    Analysis

    Warns
    -----
    UserWarning
        With ``model="auto"``, when a value of the detected model parameter has
        fewer than 2 configurations that completed every fold: that value is left
        out of the model comparison (the decomposition), and the warning and the
        notes say which value, how many complete configurations it has, why the
        others were left out, and how to get them (``hpstudy confirm STUDY
        --per-model NAME``).

    Raises
    ------
    ConfigError
        When the study has fewer than 2 complete configurations; when ``model``
        names the model parameter and one of its values has fewer than 2 complete
        configurations (the model comparison is refused, with the same details);
        when ``model`` names no parameter (or ``"auto"`` finds several), or an
        option is out of range.

    Examples
    --------
    >>> from hpstudy.stats import simulate_study
    >>> result = analyze(simulate_study(configs_per_model=5, n_folds=5))
    >>> result.best[0] in range(10)
    True
    """
    conf = _check_confidence(confidence)
    data = study_data(trials, model=model, goal=goal)
    notes: list[str] = [data.model_note]
    sign = data.goal.sign
    means = data.scores.mean(axis=1)
    order = np.argsort(-sign * means, kind="stable")
    b, r = int(order[0]), int(order[1])
    best = (int(data.numbers[b]), float(means[b]))
    runner = (int(data.numbers[r]), float(means[r]))
    dropped = data.dropped_note()
    if dropped:
        notes.append(dropped)
    notes.extend(data.model_notes())
    dec = imp = ttest = bayes = sel = None
    n_folds = data.scores.shape[1]
    if n_folds >= 2:
        kept, level_notes = settle_model_levels(data, model, stacklevel=2)
        notes.extend(level_notes)
        try:
            dec = _decompose_data(kept, notes=level_notes, confidence=conf, seed=seed)
        except ConfigError as exc:  # e.g. every model value dropped: too few configurations
            notes.append(f"decomposition skipped: {exc}")
    else:
        notes.append("one fold per configuration: no decomposition, comparison or BBC-CV")
    try:
        imp = importance(trials, goal=data.goal, seed=seed, confidence=conf)
    except ConfigError as exc:
        notes.append(f"importance skipped: {exc}")
    ratio = test_train_ratio if test_train_ratio is not None else _fold_ratio(data.folds)
    if n_folds >= 2 and ratio is not None:
        alt = "greater" if sign > 0 else "less"
        a, c = data.scores[b], data.scores[r]
        if np.ptp(a - c) > 0:
            ttest = corrected_ttest(a, c, test_train_ratio=ratio, alternative=alt, confidence=conf)
            bayes = bayesian_ttest(a, c, rope=rope, test_train_ratio=ratio, confidence=conf)
        else:
            notes.append("best and runner-up differ by a constant on every fold: no t-test")
    elif n_folds >= 2:
        notes.append("no test/train ratio (one fold per repeat): give test_train_ratio")
    if n_folds >= 3:
        sel = bbc_cv(data.scores, goal=data.goal, confidence=conf, seed=seed)
    return Analysis(decomposition=dec, importance=imp, best=best, runner_up=runner,
                    comparison=ttest, bayesian=bayes, selection=sel, model=data.model,
                    notes=tuple(notes))
