"""A fold run again on its own (its Dask worker died) drops only its own reports and
decisions from the replay; a restart without a fold (a resume) drops every unfinished
fold's, as before."""

from __future__ import annotations

from hpstudy.storage import Event, EventKind, TrialsBuilder

_FOLD_DONE = {"repeat": 0, "seed": 1, "state": "complete", "metrics": {"value": 0.5},
              "error": None, "duration": 0.1}


def _log(*steps: tuple[EventKind, dict]) -> list[Event]:
    created = (EventKind.TRIAL_CREATED, {"params": {"x": 0.5}, "seed": 1})
    return [Event(id=i, kind=kind, number=0, payload=payload, time=float(i), epoch=None)
            for i, (kind, payload) in enumerate([created, *steps], 1)]


def _report(fold: int, step: int) -> tuple[EventKind, dict]:
    return EventKind.REPORT, {"step": step, "value": 0.1 * step, "fold": fold}


def _decision(fold: int, step: int) -> tuple[EventKind, dict]:
    return EventKind.DECISION, {"step": step, "stop": False, "rule": "hyperband",
                                "value": 0.1 * step, "fold": fold}


def _replayed(events: list[Event]) -> tuple[list, list]:
    builder = TrialsBuilder()
    builder.apply(events)
    trial = builder.trials()[0]
    return ([(r.fold, r.step) for r in trial.reports],
            [(d.fold, d.step) for d in trial.decisions])


# three folds: fold 2 finished, folds 0 and 1 running when fold 1's worker dies
BEFORE = [_report(2, 0), (EventKind.FOLD_FINISHED, dict(_FOLD_DONE, fold=2)),
          _report(0, 0), _report(1, 0), _decision(0, 0), _decision(1, 0), _report(1, 1),
          _report(0, 1)]


def test_a_fold_restarted_alone_keeps_the_reports_of_the_folds_that_go_on():
    restart = (EventKind.TRIAL_RESTARTED, {"worker_died": True, "fold": 1})
    reports, decisions = _replayed(_log(*BEFORE, restart, _report(0, 2), _report(1, 0)))
    assert reports == [(2, 0), (0, 0), (0, 1), (0, 2), (1, 0)]
    assert decisions == [(0, 0)]


def test_a_restart_without_a_fold_drops_every_unfinished_fold():
    for payload in ({}, {"worker_died": True}, {"lost": True, "fold": None}):
        restart = (EventKind.TRIAL_RESTARTED, payload)
        reports, decisions = _replayed(_log(*BEFORE, restart, _report(1, 0)))
        assert reports == [(2, 0), (1, 0)] and decisions == [], payload


def test_a_study_without_folds_restarted_at_fold_0_drops_its_reports():
    """Without folds, reports carry fold None and the single task is fold 0."""
    steps = [(EventKind.REPORT, {"step": s, "value": 0.1, "fold": None}) for s in range(3)]
    restart = (EventKind.TRIAL_RESTARTED, {"worker_died": True, "fold": 0})
    reports, _ = _replayed(_log(*steps, restart, steps[0]))
    assert reports == [(None, 0)]
