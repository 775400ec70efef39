"""What early stopping did to a study, in words (the pruned-share warning)."""

from __future__ import annotations

import statistics
from collections import Counter

from hpstudy.stopping._common import loss
from hpstudy.trials import Trials, TrialState

__all__ = ["PRUNED_SHARE_LIMIT", "pruning_message"]

#: Above this share of pruned trials, a study warns (once) at the end of a run.
PRUNED_SHARE_LIMIT = 0.7


def pruning_message(trials: Trials, *, limit: float = PRUNED_SHARE_LIMIT,
                    min_trials: int = 5) -> str | None:
    """A warning text when more than ``limit`` of the finished trials were pruned, else None.

    It names the bracket (rung) most trials were stopped at, the step, the
    median threshold there and the typical margin (the median distance of the
    stopped values below their thresholds), and what to do about it.

    Parameters
    ----------
    trials : Trials
        The study's trials.
    limit : float, default 0.7
        The pruned share above which a message is returned.
    min_trials : int, default 5
        No message with fewer finished trials.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from hpstudy.trials import StopDecision, Trial, Trials, TrialState
    >>> stop = StopDecision(step=3, stop=True, rule="hyperband", value=0.32,
    ...                     threshold=0.337, bracket=0)
    >>> pruned = [Trial(number=i, params={}, state=TrialState.PRUNED, value=0.32,
    ...                 decisions=(stop,)) for i in range(9)]
    >>> done = Trial(number=9, params={}, state=TrialState.COMPLETE, value=0.4)
    >>> print(pruning_message(Trials(pruned + [done])))  # doctest: +ELLIPSIS
    9 of 10 finished trials (90%) were pruned: most at bracket 0 (step 3), ...
    """
    finished = [t for t in trials if t.state.is_finished()]
    pruned = [t for t in finished if t.state is TrialState.PRUNED]
    if len(finished) < min_trials or len(pruned) <= limit * len(finished):
        return None
    stops = [next(d for d in t.decisions if d.stop) for t in pruned
             if any(d.stop for d in t.decisions)]
    text = (f"{len(pruned)} of {len(finished)} finished trials "
            f"({len(pruned) / len(finished):.0%}) were pruned")
    if stops:
        bracket, _ = Counter(d.bracket for d in stops).most_common(1)[0]
        at = [d for d in stops if d.bracket == bracket]
        step = statistics.median_low([d.step for d in at])
        thresholds = [d.threshold for d in at if d.threshold is not None]
        margins = [loss(trials.goal, d.value) - loss(trials.goal, d.threshold)
                   for d in at if d.threshold is not None]
        where = f"bracket {bracket}" if bracket is not None else f"rule {at[0].rule}"
        text += f": most at {where} (step {step}), {len(at)} of them"
        if thresholds:
            text += (f", median threshold {statistics.median(thresholds):.4g}, typical "
                     f"margin {statistics.median(margins):.3g} below it")
    return (text + ". Stopping this many trials on small differences may rest on noise: "
            "consider early_terminate.noise ({n: <validation samples>} or {se: fold}), a "
            "larger min_iter, and re-evaluating the best without pruning (Study.confirm, "
            "hpstudy confirm).")
