"""Events, the unit of storage (replayed into trials by ``_replay``).

A study never updates a record in place: it appends events, and every trial is
rebuilt by replaying them in order. The kinds, with their payloads:

``trial_created``   ``{"params": {...}, "seed": int}``
``trial_restarted`` ``{}``: a trial that was RUNNING when the study stopped is run
                    again with the same parameters; its unfinished folds' reports
                    and decisions are dropped, its finished folds are kept.
                    ``{"fold": int}`` (with a reason, ``"worker_died"`` or
                    ``"lost"``): that fold alone is run again (its worker died on
                    a Dask cluster); only its reports and decisions are dropped.
``report``          ``{"step": int, "value": float, "fold": int | None}``
``decision``        the fields of :class:`~hpstudy.trials.StopDecision`
``fold_finished``   the fields of :class:`~hpstudy.trials.FoldResult`
``trial_finished``  ``{"state": str, "value": float | None, "metrics": {...}, "error": str | None}``

Every event also carries the *epoch* of the coordinator that wrote it (or whose
worker did): the number of its lease on the study file (``storage/_lease.py``),
None where no lease is kept (memory, files of earlier versions). A trial restarted
at epoch ``e`` ignores the later events of earlier epochs: those of a dead
coordinator's workers that lived on.
"""

from __future__ import annotations

import enum
import json
import json.scanner
from typing import Any, NamedTuple

__all__ = ["Event", "EventKind", "events_from_rows", "payload_json", "unique_key"]


class EventKind(enum.Enum):
    """The kinds of event a study appends."""

    TRIAL_CREATED = "trial_created"
    TRIAL_RESTARTED = "trial_restarted"
    REPORT = "report"
    DECISION = "decision"
    FOLD_FINISHED = "fold_finished"
    TRIAL_FINISHED = "trial_finished"


class Event(NamedTuple):
    """One appended fact about one trial (read-only).

    A named tuple rather than an attrs class: a read of a large study builds one
    per stored row, and ``tuple.__new__`` makes one in about an eighth of the time
    of a frozen attrs class (0.11 against 0.94 microseconds, ``timeit`` here).

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
    epoch : int or None
        The lease epoch of the coordinator it was written for (None: no lease).
    """

    id: int
    kind: EventKind
    number: int
    payload: dict[str, Any]
    time: float
    epoch: int | None = None


_UNIQUE_KINDS = (EventKind.TRIAL_CREATED, EventKind.TRIAL_FINISHED)


def unique_key(kind: EventKind, number: int, payload: dict[str, Any],
               epoch: int | None = None) -> tuple | None:
    """The key that must not repeat in a log, or None for events that may repeat.

    A fold's result is unique per epoch: a dead coordinator's worker that lived on
    must not take the key of the fold its successor runs again (the replay ignores
    the stale result).
    """
    if kind in _UNIQUE_KINDS:
        return (kind.value, number)
    if kind is EventKind.FOLD_FINISHED:
        fold = int(payload["fold"])
        return (kind.value, number, fold) if epoch is None else (kind.value, number, fold, epoch)
    return None


def payload_json(payload: dict[str, Any]) -> str:
    """The payload as JSON text; ConfigError if it holds NaN, infinities or non-JSON values."""
    import json

    from hpstudy.errors import ConfigError

    try:
        return json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"payload: must be JSON-able with finite numbers ({exc})") from None


_KINDS = {kind.value: kind for kind in EventKind}
# (text, index) -> (value, end): the parser json.loads calls, with its default settings
_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def events_from_rows(rows: list[tuple], where: str) -> list[Event]:
    """Events from stored rows ``(id, kind, number, payload text, time, epoch)``.

    The hot loop of every read (a 20,000-trial study has 60,000 rows and more).

    Raises
    ------
    StorageError
        ``WHERE: event 123 is not readable (...)`` for the first row that is not an
        event: a study is never half-read.
    """
    from hpstudy.errors import StorageError

    scan, loads, kinds, new = _SCAN, json.loads, _KINDS, tuple.__new__
    out: list[Event] = []
    append = out.append
    r: tuple = ()
    try:
        for r in rows:
            text = r[3]
            try:  # json.loads without its two Python frames: a third of a large read
                payload, end = scan(text, 0)
                if end != len(text):
                    raise ValueError
            except (StopIteration, TypeError, ValueError):
                payload = loads(text)  # whitespace around it, or the error to report
            if type(payload) is not dict:
                raise ValueError(f"payload is a {type(payload).__name__}, not an object")
            append(new(Event, (r[0], kinds[r[1]], int(r[2]), payload, float(r[4]),
                               None if r[5] is None else int(r[5]))))
    except (TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, KeyError):
            exc = ValueError(f"{r[1]!r} is not a kind of event")
        raise StorageError(f"{where}: event {r[0]} is not readable ({exc}); the file is "
                           f"damaged (hpstudy check)") from None
    return out
