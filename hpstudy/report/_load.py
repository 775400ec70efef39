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
from hpstudy.trials import Trials

__all__ = ["StudyRecord", "load_study_data"]


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
    """

    trials: Trials
    settings: dict[str, Any] = attrs.field(factory=dict)
    source: str = "<trials>"
    read_at: float = attrs.field(factory=time.time)
    last_event_at: float | None = None

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


def _from_path(path: str | os.PathLike) -> StudyRecord:
    from hpstudy.storage import SQLiteStorage, TrialsBuilder

    text = os.fspath(path)
    if not os.path.isfile(text):
        raise StorageError(f"storage {text!r}: no such file")
    store = SQLiteStorage(text)
    try:
        meta = store.load_meta()
        for key in ("metric", "goal"):
            if key not in meta:
                raise StorageError(f"storage {text!r}: the stored study has no {key!r}")
        builder = TrialsBuilder(metric=meta["metric"], goal=meta["goal"])
        events = store.read(0)
        builder.apply(events)
    finally:
        store.close()
    last = max((e.time for e in events), default=None)
    return StudyRecord(trials=builder.trials(), settings=dict(meta), source=text,
                       last_event_at=last)


def _from_study(study: Any) -> StudyRecord:
    trials = study.trials
    meta = dict(getattr(study, "meta", None) or {})
    times = [t for tr in trials for t in (tr.started_at, tr.finished_at) if t is not None]
    return StudyRecord(trials=trials, settings=meta, source="<study>",
                       last_event_at=max(times, default=None))


def load_study_data(source: Any) -> StudyRecord:
    """Read a study's trials and settings for analysis, without its folds object.

    Parameters
    ----------
    source : str, os.PathLike, Study, Trials or StudyRecord
        A study's SQLite file (opened for reading: nothing is appended), a
        study object, a bare collection of trials, or a record already loaded.

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
        return _from_path(source)
    if hasattr(source, "trials") and hasattr(source, "storage"):
        return _from_study(source)
    raise ConfigError("study: must be a path to a study file, a Study, a Trials or a StudyRecord "
                      f"(got {type(source).__name__})")
