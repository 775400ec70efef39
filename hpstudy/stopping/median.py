"""The median stopping rule (Golovin et al., "Google Vizier", KDD 2017)."""

from __future__ import annotations

import math
import statistics
from typing import Any

import attrs

from hpstudy.stopping._common import check_int, judged, loss, series
from hpstudy.stopping._folds import (
    Noise,
    check_fold_rule,
    fold_gate,
    histories_until,
    mean_series,
    parse_noise,
    rung_folds,
    rung_table,
)
from hpstudy.trials import Report, StopDecision, Trial, Trials

__all__ = ["MedianStopper"]


@attrs.frozen(kw_only=True)
class MedianStopper:
    """Stop a trial whose best value is worse than the median of the others' running averages.

    At a trial's iteration ``n`` (its ``n``-th reported value, of its fold), take
    every *other* trial (any state) that reported at least ``n`` values of the
    same fold, and the mean of its first ``n`` values (its running average). The
    trial stops when its best value so far is strictly worse than the median of
    those averages.

    Parameters
    ----------
    n_warmup_steps : int, default 0
        No decision at iterations ``n <= n_warmup_steps``.
    n_startup_trials : int, default 5
        No decision until at least this many other trials reached iteration ``n``
        (at least 1 is always required).
    folds : {"mean", "first", "each"}, default "mean"
        How a trial evaluated on several folds is judged (see
        :class:`~hpstudy.stopping.Hyperband`): with ``"mean"`` its series is the
        mean of its folds, and the others' running averages are of the same folds.
    noise : Noise or mapping, optional
        Do not stop a trial within one standard error of the median.

    Examples
    --------
    >>> from hpstudy.trials import Report, Trial, Trials
    >>> def trial(n, values):
    ...     reports = tuple(Report(step=i, value=v) for i, v in enumerate(values))
    ...     return Trial(number=n, params={}, reports=reports)
    >>> others = [trial(0, [0.5, 0.7]), trial(1, [0.6, 0.8]), trial(2, [0.2, 0.4])]
    >>> rule = MedianStopper(n_startup_trials=3)
    >>> d = rule.decide(trial(3, [0.5, 0.55]), Trials(others))
    >>> d.stop, d.threshold
    (True, 0.6)
    """

    n_warmup_steps: int = 0
    n_startup_trials: int = 5
    folds: str = attrs.field(default="mean", converter=check_fold_rule)
    noise: Noise | None = attrs.field(default=None, converter=parse_noise)

    def __attrs_post_init__(self) -> None:
        for name in ("n_warmup_steps", "n_startup_trials"):
            object.__setattr__(self, name, check_int(name, getattr(self, name), 0))

    rule = "median"

    def decide(self, trial: Trial, trials: Trials, report: Report | None = None
               ) -> StopDecision | None:
        """Judge ``report``, a report of ``trial``.

        Parameters
        ----------
        trial : Trial
            The trial that just reported.
        trials : Trials
            Every trial of the study; ``trials.goal`` gives the direction.
        report : Report, optional
            The report to judge (the study passes it); only its fold's series,
            up to it, counts. None judges ``trial.reports[-1]``.

        Returns
        -------
        StopDecision or None
            None during warm-up or while too few other trials reached this
            iteration; otherwise the verdict, with the trial's best value and the
            median it was compared with.
        """
        last = judged(trial, report)
        if last is None:
            return None
        gate = fold_gate(trial, last, self.folds)
        if gate is not True:
            return gate or None
        histories = histories_until(trial, last)
        n = len(histories[last.fold])
        if n <= self.n_warmup_steps:
            return None
        folds = rung_folds(histories, last.fold, n, self.folds)
        if folds is None:  # "mean": another started fold has not reached iteration n yet
            return None
        averages = []
        for t in trials:
            if t.number == trial.number:
                continue
            reached = [h for h in (series(t, g) for g in folds) if len(h) >= n]
            if reached:
                averages.append(math.fsum(math.fsum(h[:n]) for h in reached) / (n * len(reached)))
        if len(averages) < max(1, self.n_startup_trials):
            return None
        goal = trials.goal
        threshold = statistics.median(averages)
        own = mean_series(histories, folds)[:n]
        best = min(own, key=lambda v: loss(goal, v))
        margin = 0.0
        if self.noise is not None:
            table = rung_table(trials, trial, histories, n) if self.noise.se is not None else {}
            margin = self.noise.margin(threshold, len(folds), table)
        stop = loss(goal, best) > loss(goal, threshold) + margin
        return StopDecision(step=last.step, stop=stop, rule=self.rule, value=best,
                            threshold=threshold, bracket=None, fold=last.fold)

    def to_dict(self) -> dict[str, Any]:
        """The ``early_terminate`` mapping that rebuilds this stopper (what a study stores).

        Examples
        --------
        >>> MedianStopper(n_startup_trials=3).to_dict()
        {'type': 'median', 'n_warmup_steps': 0, 'n_startup_trials': 3}
        """
        out: dict[str, Any] = {"type": "median", "n_warmup_steps": self.n_warmup_steps,
                               "n_startup_trials": self.n_startup_trials}
        if self.folds != "mean":
            out["folds"] = self.folds
        if self.noise is not None:
            out["noise"] = self.noise.to_dict()
        return out
