"""The replay: every rule of a trial's life, applied to the event log in order.

A trial is created, reports steps, gets stop decisions, finishes folds and ends;
``trial_restarted`` drops its unfinished folds' reports and decisions (or one fold's,
when it names one), and from then on the trial ignores events of earlier epochs (a
dead coordinator's workers that lived on; see ``storage/_lease.py``). An event the
rules cannot read stops the replay with a :class:`~hpstudy.errors.StorageError`
naming it. The :class:`TrialsBuilder` turns the log into
:class:`~hpstudy.trials.Trials`, incrementally; :class:`Replay` keeps one up to date
with a storage, shared by the threads of a process. The rules that end a trial from
its folds live here too (:func:`folds_settled`, :func:`summarize_folds`), so that a
running study and a resumed one apply the same ones. Internal: studies and contexts
use it, users read ``Trials``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Any, cast

from hpstudy.errors import StorageError
from hpstudy.storage._gc import paused_gc
from hpstudy.storage.events import Event, EventKind
from hpstudy.trials import (
    FoldResult,
    FrozenDict,
    Goal,
    Report,
    StopDecision,
    Trial,
    Trials,
    TrialState,
)

__all__ = ["Replay", "TrialsBuilder", "folds_settled", "replay_of", "summarize_folds"]


class _TrialState:
    """Mutable accumulator for one trial during replay."""

    __slots__ = ("number", "params", "seed", "started", "finished", "state", "value",
                 "metrics", "error", "folds", "reports", "decisions", "cached", "epoch",
                 "crashes", "last")

    def __init__(self, number: int, params: FrozenDict, seed: int, started: float) -> None:
        self.number, self.params, self.seed, self.started = number, params, seed, started
        self.finished: float | None = None
        self.state = TrialState.RUNNING
        self.value: float | None = None
        self.metrics: FrozenDict = FrozenDict()
        self.error: str | None = None
        self.folds: dict[int, FoldResult] = {}
        self.reports: list[Report] = []
        self.decisions: list[StopDecision] = []
        self.cached: Trial | None = None
        self.epoch: int | None = None  # the epoch of its last restart
        self.crashes = 0  # restarts after a crash of a coordinator that ran it in-process
        self.last = 0  # the id of its last event

    def stale(self, epoch: int | None) -> bool:
        """True for an event of an epoch before the trial's last restart."""
        return self.epoch is not None and epoch is not None and epoch < self.epoch

    def restart(self, fold: int | None = None) -> None:
        """Run again: drop the reports and decisions of the unfinished folds, or of ``fold``
        alone (a fold run again on its own while the trial's other folds go on)."""
        done = set(self.folds)  # a study without folds runs one task, recorded as fold 0

        def kept(f: int | None) -> bool:
            return (f or 0) in done or (fold is not None and (f or 0) != fold)

        self.reports = [r for r in self.reports if kept(r.fold)]
        self.decisions = [d for d in self.decisions if kept(d.fold)]
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
        # the frozen records in order and each trial's position: trials() refreshes only
        # the trials that changed, so its cost does not grow with the study
        self._frozen: list[Trial | None] = []
        self._position: dict[int, int] = {}
        self._changed: set[int] = set()
        self._max_number = -1

    def apply(self, events: Iterable[Event]) -> None:
        """Apply events (in increasing id order); events already applied are skipped.

        Raises
        ------
        StorageError
            ``event 123 is not readable``: its payload lacks what its kind needs.
        """
        last_id = self.last_id
        apply_one = self._apply
        event = None
        try:
            with paused_gc():  # a large replay makes many objects and no cycles
                for event in events:
                    if event.id <= last_id:
                        continue
                    apply_one(event)
                    last_id = event.id
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            assert event is not None
            raise StorageError(
                f"storage: event {event.id} ({event.kind.value} of trial {event.number}) "
                f"is not readable ({type(exc).__name__}: {exc}); the file is damaged "
                f"(hpstudy check)") from None
        finally:
            if last_id != self.last_id:
                self.last_id = last_id
                self._cached = None

    def _apply(self, e: Event) -> None:
        # the hot loop of every read: one branch per kind, the commonest first, and every
        # mapping made read-only once here (the records take a FrozenDict as it is)
        p = e.payload
        kind = e.kind
        if kind is EventKind.TRIAL_CREATED:
            self._create(e)
            return
        t = self._trials.get(e.number)
        if t is None or t.stale(e.epoch):  # unknown trial, or a dead coordinator's worker
            return
        t.cached = None
        t.last = e.id
        self._changed.add(e.number)
        if kind is EventKind.REPORT:
            t.reports.append(Report(step=int(p["step"]), value=float(p["value"]), fold=p.get("fold")))
        elif kind is EventKind.FOLD_FINISHED:
            fields = dict(p, state=TrialState(p["state"]), metrics=FrozenDict(p.get("metrics") or {}))
            t.folds[int(p["fold"])] = FoldResult(**fields)
        elif kind is EventKind.TRIAL_FINISHED:
            t.state = TrialState(p["state"])
            t.value = _number_or_none(p.get("value"))
            t.metrics = FrozenDict({k: float(v) for k, v in (p.get("metrics") or {}).items()})
            t.error = p.get("error")
            t.finished = e.time
        elif kind is EventKind.DECISION:
            t.decisions.append(StopDecision(**p))
        elif kind is EventKind.TRIAL_RESTARTED:
            t.restart(None if p.get("fold") is None else int(p["fold"]))
            t.epoch = e.epoch
            t.crashes += bool(p.get("crashed_in_process"))

    def _create(self, e: Event) -> None:
        p = e.payload
        state = _TrialState(e.number, FrozenDict(p["params"]), int(p["seed"]), float(e.time))
        if e.number < self._max_number:
            self._out_of_order = True
        self._max_number = max(self._max_number, e.number)
        if e.number not in self._trials:
            self._position[e.number] = len(self._frozen)
            self._frozen.append(None)  # frozen by trials(), once, however many events follow
        state.last = e.id
        self._trials[e.number] = state
        self._changed.add(e.number)

    def trial(self, number: int) -> Trial:
        """The current record of trial ``number``."""
        return self._trials[number].freeze()

    def crashes(self, number: int) -> int:
        """How often trial ``number`` was restarted after its coordinator, running it in
        its own process, died."""
        return self._trials[number].crashes

    def last_event(self, number: int) -> int:
        """The id of the last event of trial ``number`` the replay kept."""
        return self._trials[number].last

    def trials(self) -> Trials:
        """Every trial, as a read-only collection."""
        if self._cached is None:
            with paused_gc():
                self._cached = self._refresh()
        return self._cached

    def _refresh(self) -> Trials:
        if self._out_of_order:
            ordered = tuple(t.freeze() for t in sorted(self._trials.values(), key=_number))
        else:
            frozen = self._frozen
            for number in self._changed:
                frozen[self._position[number]] = self._trials[number].freeze()
            ordered = cast("tuple[Trial, ...]", tuple(frozen))  # every None was refreshed
        self._changed.clear()
        return Trials._from_ordered(ordered, self.metric, self.goal)

    def __len__(self) -> int:
        return len(self._trials)


# ----------------------------------------------------------------------------
# the end of a trial, from its folds
# ----------------------------------------------------------------------------
def folds_settled(trial: Trial, n_folds: int) -> bool:
    """True when a trial's fold results decide its end, so that no task of it need run.

    A PRUNED or FAILED fold ends the trial at once (its other folds are not
    run); otherwise it ends when all ``n_folds`` folds are in. The study applies
    this rule both as results come in and when it resumes a trial a crash left
    RUNNING, so a resumed study runs exactly the folds an uninterrupted one would.
    """
    folds = trial.folds
    return any(f.state is not TrialState.COMPLETE for f in folds) or len(folds) >= n_folds


def summarize_folds(trial: Trial, metric: str) -> tuple[TrialState, float | None, dict, str | None]:
    """A trial's final (state, value, metrics, error) from its fold results.

    FAILED if any fold failed; PRUNED if any fold was pruned (value: the mean of
    the pruned folds' last reported values); otherwise COMPLETE with every
    metric averaged over the folds (metrics missing from a fold are dropped).
    """
    folds = trial.folds
    if not folds:
        return TrialState.FAILED, None, {}, "no fold finished"
    failed = [f for f in folds if f.state is TrialState.FAILED]
    if failed:
        return TrialState.FAILED, None, {}, failed[0].error
    pruned = [f for f in folds if f.state is TrialState.PRUNED]
    if pruned:
        values = [f.metrics[metric] for f in pruned if metric in f.metrics]
        return TrialState.PRUNED, (sum(values) / len(values) if values else None), {}, None
    keys = set(folds[0].metrics).intersection(*(f.metrics for f in folds[1:]))
    metrics = {k: sum(f.metrics[k] for f in folds) / len(folds) for k in sorted(keys)}
    return TrialState.COMPLETE, metrics[metric], metrics, None


# ----------------------------------------------------------------------------
# one replay per storage instance and study
# ----------------------------------------------------------------------------
class Replay:
    """A :class:`TrialsBuilder` kept up to date with one storage; safe to share between threads.

    Every read first applies the events appended since the last one, under a
    lock, and returns frozen records (which stay valid after the lock is released).

    Parameters
    ----------
    storage : Storage
        The log to follow.
    metric, goal :
        Those of the study (they order :class:`~hpstudy.trials.Trials`).
    """

    def __init__(self, storage: Any, *, metric: str, goal: Goal) -> None:
        self._storage = storage
        self._builder = TrialsBuilder(metric=metric, goal=goal)
        self._lock = threading.Lock()

    def _sync(self) -> TrialsBuilder:
        self._builder.apply(self._storage.read(self._builder.last_id))
        return self._builder

    def trials(self) -> Trials:
        """Every trial, up to date."""
        with self._lock, paused_gc():  # one collection after a large read, not three
            return self._sync().trials()

    def trial(self, number: int) -> Trial:
        """The up-to-date record of trial ``number`` (KeyError if there is none)."""
        with self._lock:
            return self._sync().trial(number)

    def crashes(self, number: int) -> int:
        """See :meth:`TrialsBuilder.crashes`."""
        with self._lock:
            return self._sync().crashes(number)

    def last_event(self, number: int) -> int:
        """See :meth:`TrialsBuilder.last_event`."""
        with self._lock:
            return self._sync().last_event(number)

    def snapshot(self, number: int) -> tuple[Trial, Trials]:
        """Trial ``number`` and every trial, read at one instant (for a stopper)."""
        with self._lock:
            builder = self._sync()
            return builder.trial(number), builder.trials()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sync())


# Storages that keep no ``_replays`` dict of their own get one here, for their lifetime.
_OTHER_STORAGES: dict[int, dict] = {}
_REGISTRY_LOCK = threading.Lock()


def _replays(storage: Any) -> dict:
    own = getattr(storage, "_replays", None)
    if isinstance(own, dict):
        return own
    key = id(storage)
    with _REGISTRY_LOCK:
        if key not in _OTHER_STORAGES:
            try:
                weakref.finalize(storage, _OTHER_STORAGES.pop, key, None)
            except TypeError:  # not weak-referenceable: no sharing, a replay per call
                return {}
            _OTHER_STORAGES[key] = {}
        return _OTHER_STORAGES[key]


def replay_of(storage: Any, study_id: str | None, *, metric: str, goal: Goal) -> Replay:
    """The replay of study ``study_id`` kept on ``storage`` (created on first use).

    The replay lives as long as the storage instance, and is tied to the study
    id stored in the study's metadata: a new study created where a deleted one
    was (the same path) gets its own replay, never the old study's trials.
    """
    cache = _replays(storage)
    key = (study_id, metric, Goal(goal))
    with _REGISTRY_LOCK:
        replay = cache.get(key)
        if replay is None:
            replay = cache[key] = Replay(storage, metric=metric, goal=Goal(goal))
    return replay
