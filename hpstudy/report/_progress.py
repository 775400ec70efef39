"""Following a run: one log line per finished trial, and ``hpstudy status``.

:func:`progress_line` is what the study loop logs when a trial ends (through
:mod:`logging`, so that nohup, CI and cluster jobs keep a readable trace);
:func:`status_text` is what ``hpstudy status`` prints: elapsed time, an ETA,
the top trials, and whether the coordinating process lives (from the study's
lease: its pid, host and heartbeat).
"""

from __future__ import annotations

import heapq
import math
import time
from typing import Any

import attrs

from hpstudy.report._escape import printable
from hpstudy.report._load import StudyRecord, load_study_data
from hpstudy.report._records import duration_text
from hpstudy.report._settings import coordinator_note, elapsed_seconds, planned_trials
from hpstudy.trials import Trial, TrialState

__all__ = ["planned_trials", "progress_line", "status_text"]

MAX_ERROR = 200  # characters of an error message in a progress line


def _v(value: float | None) -> str:
    if value is None:
        return "none"
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def _why_stopped(trial: Trial) -> str:
    stop = next((d for d in trial.decisions if d.stop), None)
    if stop is None:
        step = f" at step {trial.reports[-1].step}" if trial.reports else ""
        return f"stopped by the objective (TrialPruned){step}"
    where = f"step {stop.step}" + (f", fold {stop.fold}" if stop.fold is not None else "")
    rung = f", bracket {stop.bracket}" if stop.bracket is not None else ""
    versus = (f"{_v(stop.value)} worse than the threshold {_v(stop.threshold)}"
              if stop.threshold is not None else f"value {_v(stop.value)}")
    return f"stopped by {stop.rule} at {where}{rung}: {versus}"


def progress_line(trial: Trial, best_value: float | None, elapsed_s: float | None, *,
                  metric: str = "value") -> str:
    """One log line for a finished trial.

    Parameters
    ----------
    trial : Trial
        The trial that just ended.
    best_value : float or None
        The best value of the COMPLETE trials so far, this one included (None: none yet).
    elapsed_s : float or None
        Seconds since the study (or this run of it) started.
    metric : str, default "value"
        The metric's name, for the reader.

    Returns
    -------
    str
        For example ``"trial 12 pruned after 8.1 s: accuracy 0.7812 (last reported);
        stopped by hyperband at step 3, fold 1, bracket 0: 0.7812 worse than the
        threshold 0.8011 | best so far 0.9201 | elapsed 3.6 min"``.

    Examples
    --------
    >>> import hpstudy
    >>> from hpstudy.report import progress_line
    >>> t = hpstudy.Trial(number=3, params={"x": 0.5}, state=hpstudy.TrialState.COMPLETE,
    ...                   value=0.91, started_at=0.0, finished_at=4.0)
    >>> progress_line(t, 0.93, 75.0, metric="accuracy")
    'trial 3 complete after 4 s: accuracy 0.91 | best so far 0.93 | elapsed 75 s'
    """
    took = f" after {duration_text(trial.duration)}" if trial.duration is not None else ""
    head = f"trial {trial.number} {trial.state.value}{took}"
    if trial.state is TrialState.COMPLETE:
        what = f"{metric} {_v(trial.value)}"
    elif trial.state is TrialState.PRUNED:
        last = f"{metric} {_v(trial.value)} (last reported); " if trial.value is not None else ""
        what = last + _why_stopped(trial)
    elif trial.state is TrialState.FAILED:
        lines = (trial.error or "no error recorded").strip().splitlines() or ["?"]
        error = " ".join(lines[0].split())  # the exception; the traceback stays in the file
        what = error if len(error) <= MAX_ERROR else error[:MAX_ERROR - 3] + "..."
    else:
        what = "still running"
    best = "no complete trial yet" if best_value is None else f"best so far {_v(best_value)}"
    return printable(f"{head}: {what} | {best} | elapsed {duration_text(elapsed_s)}")


def _eta(record: StudyRecord, planned: int | None, elapsed: float | None) -> str | None:
    finished = sum(1 for t in record.trials if t.state.is_finished())
    if planned is None or elapsed is None or finished == 0:
        return None
    left = planned - finished
    if left <= 0:
        return None
    per = elapsed / finished  # wall-clock per finished trial, parallel workers included
    return (f"about {duration_text(left * per)} for the {left} trial(s) left "
            f"(at {duration_text(per)} per trial so far)")


def _top_table(record: StudyRecord, top_k: int) -> list[str]:
    trials = record.trials
    sign = trials.goal.sign
    scored = [t for t in trials.with_state(TrialState.COMPLETE, TrialState.PRUNED)
              if t.value is not None and math.isfinite(t.value)]
    complete = TrialState.COMPLETE
    ranked = heapq.nsmallest(top_k, scored, key=lambda t: (t.state is not complete,
                                                           -sign * float(t.value or 0.0),
                                                           t.number))
    if not ranked:
        return ["  no trial has a value yet"]
    names = list(dict.fromkeys(k for t in ranked for k in t.params))
    head = ["rank", "trial", trials.metric, "state", *names]
    head = [printable(c) for c in head]  # escaped before the widths are taken
    rows = [[str(i), str(t.number), _v(t.value),
             t.state.value + (" (last value)" if t.state is TrialState.PRUNED else ""),
             *(printable(_param(t.params.get(k, "-"))) for k in names)]
            for i, t in enumerate(ranked, 1)]
    width = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip()
            for r in [head, ["-" * w for w in width], *rows]]


def _param(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def status_text(source: Any, *, top_k: int = 5, now: float | None = None) -> str:
    """What ``hpstudy status`` prints: progress, ETA, the top trials, and liveness.

    Parameters
    ----------
    source : str, os.PathLike, Study, Trials or StudyRecord
        The study (its SQLite file is read, never written).
    top_k : int, default 5
        Rows of the top-trials table (complete trials first, then stopped ones
        by their last value).
    now : float, optional
        Unix time of the reading (default: now); for tests.

    Returns
    -------
    str
        Several lines, ending without a newline.
    """
    record = load_study_data(source, summary=True)  # it shows no folds or reports
    if now is not None:
        record = attrs.evolve(record, read_at=now)
    trials = record.trials
    planned = planned_trials(record)
    counts = {s.value: len(trials.with_state(s)) for s in TrialState}
    lines = [f"study {record.name!r}: {len(trials)} trials"
             + (f" of {planned} planned" if planned else "")
             + f" ({trials.metric}, {trials.goal.value})",
             "  " + ", ".join(f"{n} {k}" for k, n in counts.items())]
    alive, stale = coordinator_note(record, planned=planned)
    if alive and not stale:
        lines.append(f"  {alive}")
    elapsed = elapsed_seconds(record, live=counts["running"] > 0 and not stale)
    lines.append(f"  elapsed: {duration_text(elapsed)}")
    eta = _eta(record, planned, elapsed)
    if record.last_event_at is not None:
        ago = duration_text(max(record.read_at - record.last_event_at, 0.0))
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.last_event_at))
        lines.append(f"  last event: {when} ({ago} ago)")
    if stale:
        lines.append(f"  WARNING: {alive}")
    elif eta:
        lines.append(f"  ETA: {eta}")
    elif counts["running"] == 0 and len(trials):
        lines.append("  no trial running: the run has ended")
    lines += ["", f"top {top_k} trials:", *_top_table(record, top_k)]
    return printable("\n".join(lines))
