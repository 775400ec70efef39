"""Trial records and the read-only :class:`Trials` collection.

Records are frozen attrs classes that cross module boundaries: optimizers,
stoppers, storage and statistics all read them, none can change them. The
study builds them by replaying its storage's events
(:func:`hpstudy.storage.replay`), so they are always derived state.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import attrs

__all__ = ["FoldResult", "FrozenDict", "Goal", "Report", "StopDecision", "Trial", "TrialState",
           "Trials"]


class TrialState(enum.Enum):
    """Where a trial stands."""

    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"

    def is_finished(self) -> bool:
        """True for every state but RUNNING."""
        return self is not TrialState.RUNNING


class Goal(enum.Enum):
    """Whether the metric is maximised or minimised."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b``."""
        return a > b if self is Goal.MAXIMIZE else a < b

    @property
    def sign(self) -> float:
        """+1 when maximising, -1 when minimising: ``sign * value`` is to be maximised."""
        return 1.0 if self is Goal.MAXIMIZE else -1.0


class FrozenDict(dict):
    """A dict that refuses changes: the mappings of trial records (``params``, ``metrics``).

    It is a real ``dict`` for everything that reads (``json.dumps``, ``copy.deepcopy``,
    pickling, pandas, other libraries), but ``d[k] = v``, ``del d[k]``, ``update`` and
    the other mutators raise ``TypeError``: the records are shared by the study's
    cached replay, so a user's change would corrupt what optimizers and stoppers see.
    ``dict(d)`` gives a copy to change.

    Examples
    --------
    >>> d = FrozenDict({"lr": 0.1})
    >>> d["lr"] = 1.0
    Traceback (most recent call last):
    ...
    TypeError: trial records are read-only: change a copy, dict(...)
    >>> import copy, json, pickle
    >>> json.dumps(d), copy.deepcopy(d) == d, pickle.loads(pickle.dumps(d)) == d
    ('{"lr": 0.1}', True, True)
    """

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("trial records are read-only: change a copy, dict(...)")

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        import copy

        return FrozenDict(copy.deepcopy(dict(self), memo))


def _frozen_dict(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy: the caller's dict stays theirs, the record's cannot change.

    A FrozenDict is taken as it is (it cannot change): records built by the replay
    share their mappings instead of copying each one again.
    """
    if type(value) is FrozenDict:
        return value
    return FrozenDict(value or {})


def _dict_repr(value: Mapping[str, Any]) -> str:
    return repr(dict(value))


def _mapping_field(**kwargs: Any) -> Any:
    """An attrs field holding a read-only mapping (a :class:`FrozenDict`)."""
    return attrs.field(converter=_frozen_dict, repr=_dict_repr, **kwargs)


class _ReadOnlyMappings:
    """Pickling for frozen records whose mappings are :class:`FrozenDict`.

    The state holds plain dicts; restoring wraps them again.
    """

    __slots__ = ()

    def __getstate__(self) -> dict[str, Any]:
        cls: Any = type(self)  # an attrs class deriving from this mixin
        return {f.name: (dict(v) if isinstance(v := getattr(self, f.name), FrozenDict)
                         else v) for f in attrs.fields(cls)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        cls: Any = type(self)
        fields = attrs.fields_dict(cls)
        for name, v in state.items():
            read_only = fields[name].converter is _frozen_dict
            object.__setattr__(self, name, _frozen_dict(v) if read_only else v)


@attrs.frozen(kw_only=True)
class Report:
    """An intermediate value reported by the objective with ``ctx.report``.

    Attributes
    ----------
    step : int
        The objective's own step (an epoch, say).
    value : float
        The metric at that step.
    fold : int or None
        The fold that reported, or None for a holdout evaluation.
    """

    step: int
    value: float
    fold: int | None = None


@attrs.frozen(kw_only=True)
class StopDecision:
    """A stopper's verdict at one report, kept so a report can say why a trial stopped.

    Attributes
    ----------
    step, fold : int, int or None
        The report the decision was taken on.
    stop : bool
        Whether the trial was told to stop.
    rule : str
        The stopper that decided, e.g. ``"hyperband"``.
    value : float
        The value compared.
    threshold : float or None
        The value it was compared with (None when no comparison was made).
    bracket : int or None
        The bracket (rung) index, where the stopper has brackets.
    """

    step: int
    stop: bool
    rule: str
    value: float
    threshold: float | None = None
    bracket: int | None = None
    fold: int | None = None


@attrs.frozen(kw_only=True, getstate_setstate=False)  # _ReadOnlyMappings pickles
class FoldResult(_ReadOnlyMappings):
    """The outcome of one evaluation task (one fold of one repeat) of a trial.

    Attributes
    ----------
    fold : int
        Index of the fold (0 for a holdout evaluation).
    repeat : int
        Index of the repeat (initialisation seed), 0 when not repeated.
    seed : int
        The seed handed to the objective through ``ctx.seed``.
    state : TrialState
        COMPLETE, PRUNED or FAILED.
    metrics : mapping of str to float
        What the objective returned (empty when it failed); read-only
        (``dict(result.metrics)`` gives a copy to change).
    error : str or None
        Why the task failed, if it did.
    duration : float
        Wall-clock seconds the task took.
    """

    fold: int
    repeat: int = 0
    seed: int
    state: TrialState
    metrics: Mapping[str, float] = _mapping_field(factory=dict)
    error: str | None = None
    duration: float = 0.0


@attrs.frozen(kw_only=True, getstate_setstate=False)  # _ReadOnlyMappings pickles
class Trial(_ReadOnlyMappings):
    """One configuration of hyperparameters and everything that happened to it.

    Attributes
    ----------
    number : int
        Position in the study, from 0.
    params : mapping
        The parameters (flat names, see :class:`hpstudy.SearchSpace`). Read-only,
        like every mapping of a record (a :class:`FrozenDict`: a dict that
        refuses changes; ``dict(trial.params)`` gives a copy to change).
    state : TrialState
        Where it stands.
    value : float or None
        The primary metric: the mean over folds when COMPLETE, the last
        reported value when PRUNED, None when FAILED or RUNNING.
    metrics : mapping of str to float
        Every returned metric, averaged over the completed folds (read-only).
    folds : tuple of FoldResult
        One record per finished evaluation task, in (repeat, fold) order.
    reports : tuple of Report
        Intermediate values, in the order they were reported.
    decisions : tuple of StopDecision
        The stopper's verdicts.
    seed : int
        The trial's seed (each fold gets a seed derived from it).
    started_at, finished_at : float or None
        Unix times.
    error : str or None
        Why the trial failed.
    """

    number: int
    params: Mapping[str, Any] = _mapping_field()
    state: TrialState = TrialState.RUNNING
    value: float | None = None
    metrics: Mapping[str, float] = _mapping_field(factory=dict)
    folds: tuple[FoldResult, ...] = ()
    reports: tuple[Report, ...] = ()
    decisions: tuple[StopDecision, ...] = ()
    seed: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or None while running."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def last_step(self) -> int:
        """Number of intermediate values reported (W&B's notion of an iteration)."""
        return len(self.reports)


class Trials(Sequence[Trial]):
    """A read-only, ordered collection of trials handed to optimizers, stoppers and stats.

    Parameters
    ----------
    trials : iterable of Trial
        Sorted by number on construction.
    metric : str
        Name of the primary metric.
    goal : Goal
        Whether the primary metric is maximised or minimised.
    """

    __slots__ = ("_trials", "metric", "goal")

    def __init__(self, trials=(), *, metric: str = "value", goal: Goal = Goal.MAXIMIZE) -> None:
        items = tuple(trials)
        if any(a.number > b.number for a, b in zip(items, items[1:], strict=False)):
            items = tuple(sorted(items, key=lambda t: t.number))
        self._trials: tuple[Trial, ...] = items
        self.metric = metric
        self.goal = Goal(goal)

    @classmethod
    def _from_ordered(cls, trials: tuple[Trial, ...], metric: str, goal: Goal) -> Trials:
        """Wrap trials already in number order (the replay's), skipping the order check."""
        out = cls.__new__(cls)
        out._trials, out.metric, out.goal = trials, metric, goal
        return out

    @overload
    def __getitem__(self, index: int) -> Trial: ...
    @overload
    def __getitem__(self, index: slice) -> Trials: ...
    def __getitem__(self, index):
        if isinstance(index, slice):
            return Trials(self._trials[index], metric=self.metric, goal=self.goal)
        return self._trials[index]

    def __len__(self) -> int:
        return len(self._trials)

    def __iter__(self) -> Iterator[Trial]:
        return iter(self._trials)

    def __repr__(self) -> str:
        counts = {s.value: len(self.with_state(s)) for s in TrialState}
        return f"Trials({len(self)} trials, metric={self.metric!r}, goal={self.goal.value}, {counts})"

    def with_state(self, *states: TrialState) -> Trials:
        """The trials in any of ``states``."""
        return Trials((t for t in self._trials if t.state in states), metric=self.metric, goal=self.goal)

    @property
    def complete(self) -> Trials:
        """The COMPLETE trials."""
        return self.with_state(TrialState.COMPLETE)

    @property
    def running(self) -> Trials:
        """The RUNNING trials (for optimizers that account for pending points)."""
        return self.with_state(TrialState.RUNNING)

    def best(self) -> Trial | None:
        """The COMPLETE trial with the best value (lowest number on ties), or None."""
        best: Trial | None = None
        for t in self.complete:
            if t.value is None or not math.isfinite(t.value):
                continue
            if best is None or self.goal.better(t.value, best.value):  # type: ignore[arg-type]
                best = t
        return best

    def to_frame(self, *, folds: bool = False):
        """A pandas DataFrame, one row per trial (or per fold result with ``folds=True``).

        Columns: ``number``, ``state``, ``value``, one ``params.<name>`` column per
        parameter, one ``metrics.<name>`` per metric, ``seed``, ``duration``,
        ``n_reports``, ``error``; with ``folds=True`` also ``fold``, ``repeat``,
        ``fold_seed`` and ``fold_state``, and the metrics are the fold's own.
        """
        import pandas as pd

        rows = []
        for t in self._trials:
            base = {"number": t.number, "state": t.state.value}
            base.update({f"params.{k}": v for k, v in t.params.items()})
            if not folds:
                row = dict(base, value=t.value)
                row.update({f"metrics.{k}": v for k, v in t.metrics.items()})
                row.update(seed=t.seed, duration=t.duration, n_reports=len(t.reports), error=t.error)
                rows.append(row)
                continue
            for f in t.folds:
                row = dict(base, fold=f.fold, repeat=f.repeat, fold_seed=f.seed, fold_state=f.state.value)
                row["value"] = f.metrics.get(self.metric)
                row.update({f"metrics.{k}": v for k, v in f.metrics.items()})
                row.update(duration=f.duration, error=f.error)
                rows.append(row)
        return pd.DataFrame(rows)
