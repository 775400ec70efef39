"""Events, the unit of storage, and their replay into :class:`~hpstudy.trials.Trials`.

A study never updates a record in place: it appends events, and every trial is
rebuilt by replaying them in order. The kinds, with their payloads:

``trial_created``   ``{"params": {...}, "seed": int}``
``trial_restarted`` ``{}``: a trial that was RUNNING when the study stopped is run
                    again with the same parameters; its unfinished folds' reports
                    and decisions are dropped, its finished folds are kept.
``report``          ``{"step": int, "value": float, "fold": int | None}``
``decision``        the fields of :class:`~hpstudy.trials.StopDecision`
``fold_finished``   the fields of :class:`~hpstudy.trials.FoldResult`
``trial_finished``  ``{"state": str, "value": float | None, "metrics": {...}, "error": str | None}``
"""

from __future__ import annotations

import enum
import math
from typing import Any

import attrs

from hpstudy.trials import FoldResult, Goal, Report, StopDecision, Trial, Trials, TrialState

__all__ = ["Event", "EventKind", "TrialsBuilder"]


class EventKind(enum.Enum):
    """The kinds of event a study appends."""

    TRIAL_CREATED = "trial_created"
    TRIAL_RESTARTED = "trial_restarted"
    REPORT = "report"
    DECISION = "decision"
    FOLD_FINISHED = "fold_finished"
    TRIAL_FINISHED = "trial_finished"


@attrs.frozen(kw_only=True)
class Event:
    """One appended fact about one trial.

    Attributes
    ----------
    id : int
        Position in the log (increasing; assigned by the storage).
    kind : EventKind
        What happened.
    number : int
        The trial it concerns.
    payload : dict
        JSON-able details (see the module docstring).
    time : float
        Unix time when it was written.
    """

    id: int
    kind: EventKind
    number: int
    payload: dict[str, Any]
    time: float


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


def is_finite_number(value: Any) -> bool:
    """True for a real, finite int or float (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and np.issubdtype(type(value), np.number):
                return bool(np.isfinite(value)) and not np.iscomplexobj(value)
        except ImportError:  # pragma: no cover
            pass
        return False
    return math.isfinite(value)


_UNIQUE_KINDS = (EventKind.TRIAL_CREATED, EventKind.TRIAL_FINISHED)


def unique_key(kind: EventKind, number: int, payload: dict[str, Any]) -> tuple | None:
    """The key that must not repeat in a log, or None for events that may repeat."""
    if kind in _UNIQUE_KINDS:
        return (kind.value, number)
    if kind is EventKind.FOLD_FINISHED:
        return (kind.value, number, int(payload["fold"]))
    return None


def payload_json(payload: dict[str, Any]) -> str:
    """The payload as JSON text; ConfigError if it holds NaN, infinities or non-JSON values."""
    import json

    from hpstudy.errors import ConfigError

    try:
        return json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"payload: must be JSON-able with finite numbers ({exc})") from None
