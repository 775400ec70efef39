"""The stopper protocol: one method, called at each intermediate report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hpstudy.trials import StopDecision, Trial, Trials

__all__ = ["Stopper"]


@runtime_checkable
class Stopper(Protocol):
    """Decides whether a trial goes on after it reports an intermediate value."""

    def decide(self, trial: Trial, trials: Trials) -> StopDecision | None:
        """Decide on ``trial``'s latest report.

        Parameters
        ----------
        trial : Trial
            The trial that just reported; its last element of ``reports`` is the
            new value and ``len(trial.reports)`` is W&B's iteration count.
        trials : Trials
            Every trial of the study (including ``trial``), for comparisons;
            ``trials.goal`` says which direction is better.

        Returns
        -------
        StopDecision or None
            None when no rule applies at this step (nothing is recorded);
            otherwise a decision, recorded in storage, whose ``stop`` tells the
            study to prune the trial.
        """
        ...
