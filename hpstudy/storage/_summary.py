"""Summary reads: a study's trials without their details, for ``status`` and ``export``.

A trial's reports, fold results and stop decisions are most of its events (3 of 5
in a study that reports twice a trial); a summary of the trials needs none of
them but the number of reports. :func:`read_summary` reads the rest and counts the
reports by their ids (:func:`report_counts`), applying the replay's rules for them
(``storage/_replay.py``): a report counts when its trial exists, and a log with a
restart, which keeps only the reports of finished folds, is read whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hpstudy.storage.events import Event, EventKind

__all__ = ["SUMMARY_SKIPS", "read_summary", "report_counts"]


def report_counts(events: Iterable[Event], reports: Iterable[tuple[int, int]]) -> dict[int, int] | None:
    """How many reports each trial keeps in a replay, without the reports' payloads.

    Parameters
    ----------
    events : iterable of Event
        The log without its ``report`` events (as ``read(skip=[EventKind.REPORT])`` gives).
    reports : iterable of (int, int)
        The ``(trial number, event id)`` of every ``report`` event.

    Returns
    -------
    dict or None
        Trial number -> ``len(trial.reports)`` of the full replay (trials without
        reports are left out); None when the log has a ``trial_restarted`` event:
        a restart keeps only its finished folds' reports, which only their
        payloads say, so only a full replay counts them.
    """
    created: dict[int, int] = {}  # the trial's last creation: a second one starts it afresh
    for e in events:
        if e.kind is EventKind.TRIAL_RESTARTED:
            return None
        if e.kind is EventKind.TRIAL_CREATED:
            created[e.number] = e.id
    counts: dict[int, int] = {}
    for number, event_id in reports:  # a report before its trial exists is ignored
        if event_id > created.get(number, event_id):
            counts[number] = counts.get(number, 0) + 1
    return counts


#: What a summary read leaves out (:func:`read_summary`): a trial's details.
SUMMARY_SKIPS = (EventKind.REPORT, EventKind.FOLD_FINISHED, EventKind.DECISION)


def read_summary(storage: Any) -> tuple[list[Event], dict[int, int] | None]:
    """The events that summarise a study's trials, and each trial's number of reports.

    Each trial's creation, restarts and end are read; its reports, fold results and
    stop decisions are not (an :class:`~hpstudy.storage.SQLiteStorage` still checks
    those rows), and its reports are counted (:func:`report_counts`). A log with a
    restart is read whole, with counts None: only the reports' payloads say which
    ones a restart keeps. The trials replayed from the events have every field but
    ``folds``, ``reports`` and ``decisions``, which may be empty.
    """
    events = list(storage.read(0, skip=SUMMARY_SKIPS))
    counts = report_counts(events, storage.report_ids())
    if counts is None:
        return list(storage.read(0)), None
    return events, counts
