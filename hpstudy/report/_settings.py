"""The study's settings and status, and whether its run looks alive.

Shared by the report's first section and by ``hpstudy status``
(:mod:`hpstudy.report._progress`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from hpstudy.report._load import StudyRecord
from hpstudy.report._records import Section, SettingsData, duration_text
from hpstudy.trials import Trials, TrialState

__all__ = ["STALE_AFTER", "coordinator_note", "elapsed_seconds", "planned_trials",
           "settings_section", "stale_note"]

STALE_AFTER = 600.0  # seconds without an event before RUNNING trials look abandoned


def elapsed_seconds(record: StudyRecord, *, live: bool = False) -> float | None:
    """Seconds from the first trial's start to the latest event (None: no trial).

    With ``live`` (a run in progress), up to the time of the reading instead.
    """
    starts = [t.started_at for t in record.trials if t.started_at is not None]
    end = record.read_at if live else record.last_event_at
    if not starts or end is None:
        return None
    return end - min(starts)


def planned_trials(record: StudyRecord) -> int | None:
    """The number of trials the run was asked for, when the study stored it.

    ``hpstudy run --trials N`` stores ``annotations["planned_trials"]``; a
    sweep's ``run_cap`` is the fallback (as in ``hpstudy status``).
    """
    notes = record.settings.get("annotations") or {}
    for value in (notes.get("planned_trials"), record.settings.get("run_cap")):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None




def stale_note(record: StudyRecord, *, min_idle: float = STALE_AFTER,
               planned: int | None = None) -> str | None:
    """Why the run looks dead, or None.

    A run looks dead when trials are RUNNING (or fewer than ``planned`` have
    finished) and no event came for too long. The study writes an event at
    every start, report and end, so a live run is silent only while a trial
    computes without ``ctx.report``: the silence allowed is ``min_idle``
    seconds or twice the longest finished trial, whichever is longer.
    """
    trials = record.trials
    running = len(trials.running)
    finished = len(trials) - running
    unfinished = planned is not None and finished < planned
    if (not running and not unfinished) or record.last_event_at is None:
        return None
    durations = [t.duration for t in trials if t.duration is not None]
    allowed = max([min_idle, *(2.0 * d for d in durations)])
    idle = record.read_at - record.last_event_at
    if idle <= allowed:
        return None
    what = (f"while {running} trial(s) are running" if running
            else f"with {finished} of {planned} planned trials finished")
    return (f"no progress for {duration_text(idle)} {what}: the coordinating process may "
            "have died; `hpstudy resume` continues it")


def coordinator_note(record: StudyRecord, *, min_idle: float = STALE_AFTER,
                     planned: int | None = None) -> tuple[str | None, bool]:
    """Whether the study's run is alive, from its lease when the storage keeps one.

    Returns ``(text, warning)``. With a lease (an SQLite study): ``coordinator
    PID 123 on HOST is alive (heartbeat 3 s ago ...)`` (not a warning), or ``...
    is gone (stale lease ...): the 2 running trial(s) will be re-run on resume``
    (a warning); with no lease held and trials RUNNING, that no coordinator
    holds the study (a warning). Without leases (a study in memory, bare
    trials) it falls back to :func:`stale_note`'s guess from the silence.
    """
    if not record.leased:
        stale = stale_note(record, min_idle=min_idle, planned=planned)
        return (stale, True) if stale else (None, False)
    running = len(record.trials.running)
    rerun = (f": the {running} running trial(s) will be re-run on resume" if running else "")
    lease = record.lease
    if lease is None:
        if not running:
            return None, False
        return ("no coordinator holds the study (its last run ended or was stopped)" + rerun
                + "; `hpstudy resume` continues it", True)
    beat = duration_text(max(record.read_at - lease.heartbeat, 0.0))
    who = f"coordinator PID {lease.pid} on {lease.host}"
    if lease.fresh(now=record.read_at):
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(lease.started))
        return (f"{who} is alive (heartbeat {beat} ago; running the study since {since}, "
                f"{lease.n_jobs} task(s) at a time)", False)
    return (f"{who} is gone (stale lease, last heartbeat {beat} ago)" + rerun
            + "; `hpstudy resume` continues the study", True)


# ------------------------------------------------------------------ settings
_DISTRIBUTIONS = {  # W&B's names, in words
    "uniform": "uniform", "int_uniform": "integers", "q_uniform": "uniform",
    "log_uniform_values": "log-uniform", "q_log_uniform_values": "log-uniform",
    "inv_log_uniform_values": "inverse log-uniform", "normal": "normal", "q_normal": "normal",
    "log_normal": "log-normal", "q_log_normal": "log-normal",
}


def _space_text(spec: Any) -> str:
    """A W&B parameter spec in words: ``"log-uniform from 1e-05 to 0.1"``."""
    if not isinstance(spec, Mapping):
        return str(spec)
    if "values" in spec:
        return "one of " + ", ".join(str(v) for v in spec["values"])
    if "value" in spec:
        return f"fixed at {spec['value']}"
    name = str(spec.get("distribution", "uniform"))
    lo, hi = spec.get("min"), spec.get("max")
    if name in ("log_uniform", "q_log_uniform", "inv_log_uniform") and lo is not None \
            and hi is not None:  # W&B gives these bounds as natural-log exponents
        text = f"log-uniform from e^{lo} to e^{hi}"
    else:
        text = _DISTRIBUTIONS.get(name, name)
        if lo is not None and hi is not None:
            text += f" from {lo} to {hi}"
    if "mu" in spec or "sigma" in spec:
        text += f" with mean {spec.get('mu', 0)} and SD {spec.get('sigma', 1)}"
    if spec.get("q") is not None:
        text += f", in steps of {spec['q']}"
    shown = {"distribution", "min", "max", "mu", "sigma", "q"}
    rest = ", ".join(f"{k} {v}" for k, v in spec.items() if k not in shown)
    return f"{text} ({rest})" if rest else text


def _folds_text(folds: Mapping[str, Any] | None) -> str:
    """How each configuration is evaluated, in words."""
    if not folds:
        return "one evaluation per trial (no cross-validation folds)"
    d = folds.get("describe") or {}
    kind = str(d.get("kind", "folds"))
    if d.get("n_splits") is None:
        head = kind
    else:
        reps = int(d.get("n_repeats", 1) or 1) * int(d.get("n_seeds", 1) or 1)
        head = (f"{d['n_splits']}-fold cross-validation" + (f", repeated {reps} times" if reps > 1
                                                            else "")
                + f": {d.get('n_tasks', '?')} evaluations per trial")
    parts = [head]
    if d.get("n_samples") is not None:
        parts.append(f"{d['n_samples']} samples")
    if d.get("stratified"):
        parts.append("stratified by class")
    if d.get("groups"):
        parts.append("grouped" + (f" ({d['n_groups']} groups)" if d.get("n_groups") else ""))
    details = [f"{kind}"] + ([f"scikit-learn {d['splitter']}"] if d.get("splitter") else []) \
        + ([f"seed {d['seed']}"] if d.get("seed") is not None else [])
    return ", ".join(parts) + " (" + ", ".join(details) + ")"


def _stopper_text(settings: Mapping[str, Any], trials: Trials) -> str:
    et = settings.get("early_terminate")
    if et:
        kind = et.get("type", "?")
        rest = ", ".join(f"{k}={v}" for k, v in et.items() if k != "type")
        return f"{kind} ({rest})" if rest else str(kind)
    rules = sorted({d.rule for t in trials for d in t.decisions})
    if rules:
        return "a stopper given in Python (rules seen: " + ", ".join(rules) + ")"
    return "none: every trial runs to its end"


def settings_section(record: StudyRecord, *, stale_after: float = 600.0) -> Section:
    """The study's settings and status as ``(label, value)`` rows, plus the space rows."""
    s, trials = record.settings, record.trials
    counts = {st.value: len(trials.with_state(st)) for st in TrialState}
    elapsed = elapsed_seconds(record)
    status = f"{len(trials)} trials: " + ", ".join(f"{n} {k}" for k, n in counts.items())
    alive, _ = coordinator_note(record, min_idle=stale_after, planned=planned_trials(record))
    if alive:
        status += "; " + alive
    goal = trials.goal.value
    rows: list[tuple[str, str]] = [("study", record.name), ("read from", record.source),
            ("phase", "confirm (re-evaluated without pruning)" if record.phase == "confirm"
             else "search"),
            ("metric", f"{trials.metric} ({goal})")]
    if s:
        rows += [("search method", str(s.get("optimizer", "?"))), ("seed", str(s.get("seed", "?"))),
                 ("folds", _folds_text(s.get("folds")))]
        fp = (s.get("folds") or {}).get("fingerprint")
        rows.append(("data fingerprint", f"{fp[:16]}... (SHA-256 of the folds)" if fp else "none"))
    rows.append(("early stopping", _stopper_text(s, trials)))
    for key, label in (("run_cap", "run cap"), ("target", "target")):
        if s.get(key) is not None:
            rows.append((label, str(s[key])))
    rows += [("status", status), ("elapsed", duration_text(elapsed)),
             ("report written", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.read_at)))]
    if s.get("hpstudy_version"):
        rows.append(("hpstudy version", str(s["hpstudy_version"])))
    space = s.get("space") or {}
    if not space and len(trials):
        names = dict.fromkeys(k for t in trials for k in t.params)
        space = {k: {"distribution": "(not stored)"} for k in names}
    data = SettingsData(rows=tuple(rows),
                        space=tuple((k, _space_text(v)) for k, v in space.items()),
                        counts=counts, elapsed=elapsed)
    notes = (record.phase_note,) if record.phase_note else ()
    return Section(key="settings", title="Study settings and status", data=data, notes=notes)


