"""Open a study for analysis, read-only, without its folds object.

A stored study needs its folds only to run more trials; reading its trials and
settings needs nothing but the file. :func:`load_study_data` accepts a path, a
:class:`hpstudy.Study`, a :class:`hpstudy.Trials` or an already loaded
:class:`StudyRecord`, so every report function takes any of them.
"""

from __future__ import annotations

import os
import time
from typing import Any

import attrs

from hpstudy.errors import ConfigError, StorageError
from hpstudy.storage import Lease
from hpstudy.trials import Trial, Trials

__all__ = ["StudyRecord", "confirm_note", "load_study_data"]


@attrs.frozen(kw_only=True)
class StudyRecord:
    """A study's trials and stored settings, as read for a report.

    Attributes
    ----------
    trials : Trials
        Every trial, replayed from the study's events.
    settings : dict
        The stored metadata: ``name``, ``space`` (W&B form), ``optimizer``,
        ``metric``, ``goal``, ``seed``, ``folds`` (``describe`` and
        ``fingerprint``, or None), ``early_terminate``, ``run_cap``, ``target``,
        ``annotations``, ``hpstudy_version``. Empty for bare Trials.
    source : str
        Where it was read from (a path, ``"<study>"`` or ``"<trials>"``).
    read_at : float
        Unix time of the reading.
    last_event_at : float or None
        Unix time of the study's latest event (None without events).
    leased : bool
        True when the study's storage keeps a coordinator lease (an SQLite
        file): then :attr:`lease` says who runs it.
    lease : Lease or None
        The lease recorded in the file when it was read (fresh or stale); None
        when no coordinator holds it (none ran, or the last run ended).
    phase : {"search", "confirm"}
        Which phase of the study file this is: the search, or its confirm phase
        (the best configurations re-evaluated without pruning, see
        :meth:`hpstudy.Study.confirm`).
    phase_note : str or None
        A sentence about the study file's other phase: for a confirm phase,
        what it re-evaluated; for a search with a confirm phase, that its
        balanced, unpruned analysis is there and how to see it.
    phase_link : str or None
        Where the other phase's HTML report is (a file name beside this one).
    report_counts : dict or None
        When read as a summary (see :func:`load_study_data`): trial number -> how
        many intermediate values it has; see :meth:`n_reports`.
    """

    trials: Trials
    settings: dict[str, Any] = attrs.field(factory=dict)
    source: str = "<trials>"
    read_at: float = attrs.field(factory=time.time)
    last_event_at: float | None = None
    leased: bool = False
    lease: Lease | None = None
    phase: str = "search"
    phase_note: str | None = None
    phase_link: str | None = None
    report_counts: dict[int, int] | None = None

    def n_reports(self, trial: Trial) -> int:
        """How many intermediate values ``trial`` reported (also when they were not read)."""
        if self.report_counts is None or trial.reports:
            return len(trial.reports)
        return self.report_counts.get(trial.number, 0)

    @property
    def name(self) -> str:
        """The study's name, or the file's name."""
        name = self.settings.get("name")
        if name:
            return str(name)
        return os.path.basename(self.source) if self.source[:1] != "<" else "study"

    @property
    def metric(self) -> str:
        """Name of the primary metric."""
        return self.trials.metric


def _from_path(path: str | os.PathLike, *, summary: bool = False) -> StudyRecord:
    from hpstudy.storage import SQLiteStorage, TrialsBuilder, read_summary

    text = os.fspath(path)
    if not os.path.isfile(text):
        raise StorageError(f"storage {text!r}: no such file")
    store = SQLiteStorage(text, read_only=True)  # a reader never writes
    try:
        meta = store.load_meta()
        for key in ("metric", "goal"):
            if key not in meta:
                raise StorageError(f"storage {text!r}: the stored study has no {key!r}")
        builder = TrialsBuilder(metric=meta["metric"], goal=meta["goal"])
        events, counts = read_summary(store) if summary else (store.read(0), None)
        builder.apply(events)
        last = store.last_event_time()  # of every event: a report is a sign of life too
        lease = store.lease()
    finally:
        store.close()
    return StudyRecord(trials=builder.trials(), settings=dict(meta), source=text,
                       last_event_at=last, leased=True, lease=lease, report_counts=counts)


def _from_study(study: Any) -> StudyRecord:
    trials = study.trials
    meta = dict(getattr(study, "meta", None) or {})
    times = [t for tr in trials for t in (tr.started_at, tr.finished_at) if t is not None]
    reader = getattr(study.storage, "lease", None)
    lease = reader() if callable(reader) else None
    notes = meta.get("annotations") or {}
    confirm = isinstance(notes, dict) and notes.get("phase") == "confirm"
    path = getattr(study.storage, "path", None)
    return StudyRecord(trials=trials, settings=meta,
                       source=str(path) if confirm and path else "<study>",
                       last_event_at=max(times, default=None), leased=callable(reader),
                       lease=lease, phase="confirm" if confirm else "search",
                       phase_note=confirm_note(notes, len(trials)) if confirm else None)


def confirm_note(annotations: dict[str, Any], n_trials: int) -> str:
    """What a confirm phase re-evaluated, from its stored annotations, in one sentence."""
    configurations = annotations.get("configurations") or []
    sources = [str(c.get("source")) for c in configurations if isinstance(c, dict)]
    shown = ", ".join(sources[:12]) + (f", ... ({len(sources) - 12} more)"
                                       if len(sources) > 12 else "")
    per_model = annotations.get("per_model")
    top = annotations.get("top")
    best = "the best configuration" if top == 1 else f"the {top} best configurations"
    which = f"{best} of each value of {per_model!r}" if per_model else best
    done = (f"{n_trials} of {len(configurations)} re-evaluated so far"
            if n_trials < len(configurations) else f"{n_trials} re-evaluated")
    return (f"Confirm phase: {which} of the search (search trials {shown}; "
            f"{done}), run to the end without pruning on the search's folds with "
            f"{annotations.get('seeds', 1)} seed(s) per split. This balanced, unpruned design "
            "is the one to analyse for model change vs tuning vs noise.")


def load_study_data(source: Any, *, summary: bool = False) -> StudyRecord:
    """Read a study's trials and settings for analysis, without its folds object.

    Parameters
    ----------
    source : str, os.PathLike, Study, Trials or StudyRecord
        A study's SQLite file (opened for reading: nothing is appended), a
        study object, a bare collection of trials, or a record already loaded.
    summary : bool, default False
        Read a study file's trials without their details: each trial's
        parameters, state, value, metrics, times and error, and how many
        intermediate values it reported (:meth:`StudyRecord.n_reports`), but
        possibly no ``folds``, ``reports`` or ``decisions`` (they stay unread
        unless a restart needs them). What ``hpstudy status`` and ``export``
        read: on a large study it is several times faster.

    Returns
    -------
    StudyRecord

    Raises
    ------
    StorageError
        When the file is missing or holds no hpstudy study.
    ConfigError
        When ``source`` is none of the accepted kinds.

    Examples
    --------
    >>> import hpstudy
    >>> from hpstudy.report import load_study_data
    >>> record = load_study_data(hpstudy.Trials([], metric="accuracy"))
    >>> record.metric, len(record.trials), record.settings
    ('accuracy', 0, {})
    """
    if isinstance(source, StudyRecord):
        return source
    if isinstance(source, Trials):
        times = [t for tr in source for t in (tr.started_at, tr.finished_at) if t is not None]
        return StudyRecord(trials=source, last_event_at=max(times, default=None))
    if isinstance(source, (str, os.PathLike)):
        return _from_path(source, summary=summary)
    if hasattr(source, "trials") and hasattr(source, "storage"):
        return _from_study(source)
    raise ConfigError("study: must be a path to a study file, a Study, a Trials or a StudyRecord "
                      f"(got {type(source).__name__})")
