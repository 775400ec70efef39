"""The replay: every rule of a trial's life, applied to the event log in order.

A trial is created, reports steps, gets stop decisions, finishes folds and ends;
``trial_restarted`` drops its unfinished folds' reports and decisions. The
:class:`TrialsBuilder` turns the log into :class:`~hpstudy.trials.Trials`,
incrementally. Internal: studies and contexts use it, users read ``Trials``.
"""

from __future__ import annotations

from typing import Any

from hpstudy.storage.events import Event, EventKind
from hpstudy.trials import FoldResult, Goal, Report, StopDecision, Trial, Trials, TrialState

__all__ = ["TrialsBuilder"]


class _TrialState:
    """Mutable accumulator for one trial during replay."""

    __slots__ = ("number", "params", "seed", "started", "finished", "state", "value",
                 "metrics", "error", "folds", "reports", "decisions", "cached")

    def __init__(self, number: int, params: dict, seed: int, started: float) -> None:
        self.number, self.params, self.seed, self.started = number, params, seed, started
        self.finished: float | None = None
        self.state = TrialState.RUNNING
        self.value: float | None = None
        self.metrics: dict[str, float] = {}
        self.error: str | None = None
        self.folds: dict[int, FoldResult] = {}
        self.reports: list[Report] = []
        self.decisions: list[StopDecision] = []
        self.cached: Trial | None = None

    def restart(self) -> None:
        done = set(self.folds)  # a study without folds runs one task, recorded as fold 0
        self.reports = [r for r in self.reports if (r.fold or 0) in done]
        self.decisions = [d for d in self.decisions if (d.fold or 0) in done]
        self.state, self.value, self.error, self.finished = TrialState.RUNNING, None, None, None

    def freeze(self) -> Trial:
        if self.cached is None:
            self.cached = Trial(
                number=self.number, params=self.params, state=self.state, value=self.value,
                metrics=self.metrics,
                folds=tuple(self.folds[k] for k in sorted(self.folds)),
                reports=tuple(self.reports), decisions=tuple(self.decisions), seed=self.seed,
                started_at=self.started, finished_at=self.finished, error=self.error,
            )
        return self.cached


def _number(state: _TrialState) -> int:
    return state.number


def _number_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


class TrialsBuilder:
    """Replays events incrementally into trials.

    Feed it events in log order with :meth:`apply`; :meth:`trials` returns the
    current :class:`~hpstudy.trials.Trials`. Unchanged trials keep their frozen
    record between calls, so rebuilding after a few new events is cheap.
    """

    def __init__(self, *, metric: str = "value", goal: Goal = Goal.MAXIMIZE) -> None:
        self.metric = metric
        self.goal = Goal(goal)
        self.last_id = 0
        self._trials: dict[int, _TrialState] = {}
        self._cached: Trials | None = None
        self._out_of_order = False  # trials are created in number order, unless a log says not

    def apply(self, events) -> None:
        """Apply events (in increasing id order); events already applied are skipped."""
        for event in events:
            if event.id <= self.last_id:
                continue
            self.last_id = event.id
            self._cached = None
            self._apply(event)

    def _apply(self, e: Event) -> None:
        p = e.payload
        if e.kind is EventKind.TRIAL_CREATED:
            if self._trials and e.number < max(self._trials):
                self._out_of_order = True
            self._trials[e.number] = _TrialState(e.number, dict(p["params"]), int(p["seed"]), e.time)
            return
        t = self._trials.get(e.number)
        if t is None:  # an event for an unknown trial cannot come from hpstudy
            return
        t.cached = None
        if e.kind is EventKind.TRIAL_RESTARTED:
            t.restart()
        elif e.kind is EventKind.REPORT:
            t.reports.append(Report(step=int(p["step"]), value=float(p["value"]), fold=p.get("fold")))
        elif e.kind is EventKind.DECISION:
            t.decisions.append(StopDecision(**p))
        elif e.kind is EventKind.FOLD_FINISHED:
            fields = dict(p, state=TrialState(p["state"]))
            t.folds[int(p["fold"])] = FoldResult(**fields)
        elif e.kind is EventKind.TRIAL_FINISHED:
            t.state = TrialState(p["state"])
            t.value = _number_or_none(p.get("value"))
            t.metrics = {k: float(v) for k, v in (p.get("metrics") or {}).items()}
            t.error = p.get("error")
            t.finished = e.time

    def trial(self, number: int) -> Trial:
        """The current record of trial ``number``."""
        return self._trials[number].freeze()

    def trials(self) -> Trials:
        """Every trial, as a read-only collection."""
        if self._cached is None:
            ordered = tuple(t.freeze() for t in sorted(self._trials.values(), key=_number)) \
                if self._out_of_order else tuple(t.freeze() for t in self._trials.values())
            self._cached = Trials._from_ordered(ordered, self.metric, self.goal)
        return self._cached

    def __len__(self) -> int:
        return len(self._trials)
