"""The stopper protocol: one method, called at each intermediate report."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hpstudy.trials import Report, StopDecision, Trial, Trials

__all__ = ["Stopper", "ask_stopper"]


@runtime_checkable
class Stopper(Protocol):
    """Decides whether a trial goes on after it reports an intermediate value.

    A stopper given to a study is stored with it: the built-in ones by their
    settings (their ``to_dict()``), any other by its class path, and a resumed
    study must be given the same one.
    """

    def decide(self, trial: Trial, trials: Trials, report: Report | None = None
               ) -> StopDecision | None:
        """Decide on ``report``, a report of ``trial``.

        Parameters
        ----------
        trial : Trial
            The trial that just reported; ``report`` is among its ``reports``.
        trials : Trials
            Every trial of the study (including ``trial``), for comparisons;
            ``trials.goal`` says which direction is better.
        report : Report, optional
            The report to judge. Judge ``report.fold``'s series only, up to this
            report: with folds run in parallel, ``trial.reports[-1]`` may be
            another fold's report, received between this one and the decision.
            The study always passes it. A stopper whose ``decide`` takes only
            ``(trial, trials)`` still works (it is called that way), but it
            judges ``trial.reports[-1]``, which is exact only when folds run one
            at a time.

        Returns
        -------
        StopDecision or None
            None when no rule applies at this step (nothing is recorded);
            otherwise a decision, recorded in storage, whose ``stop`` tells the
            study to prune the trial.
        """
        ...


@functools.lru_cache(maxsize=256)
def _takes_report(decide: Any) -> bool:
    try:
        params = inspect.signature(decide).parameters
    except (TypeError, ValueError):  # a builtin without a signature: the old protocol
        return False
    return "report" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def ask_stopper(stopper: Any, trial: Trial, trials: Trials, report: Report) -> StopDecision | None:
    """Ask ``stopper`` about ``report``, passing it when ``decide`` accepts ``report=``.

    Stoppers written for the two-argument protocol, ``decide(trial, trials)``,
    are called that way.
    """
    decide = stopper.decide
    function = getattr(decide, "__func__", decide)  # cache per function, not per bound method
    try:
        takes = _takes_report(function)
    except TypeError:  # an unhashable callable
        takes = _takes_report.__wrapped__(function)
    if takes:
        return stopper.decide(trial, trials, report=report)
    return stopper.decide(trial, trials)
