"""Search, then confirm: re-evaluate the best configurations without pruning.

:meth:`Study.confirm <hpstudy.Study.confirm>` picks the ``top`` best configurations
of a search (or the ``top`` best of each value of a model parameter), and runs each
again on the same folds (with ``seeds`` initialisation seeds per split), to the
end, with no stopper. The result is a *confirm phase*: a second study stored in the
same file, under the namespace ``confirm`` of :class:`~hpstudy.storage.SQLiteStorage`
(its own log, metadata, epoch and lease: one coordinator at a time, durable appends,
duplicates refused), linked to the search by its ``study_id``, resumed after a crash
like any study. Its trials form the balanced,
unpruned design that :func:`hpstudy.analyze` needs to answer "model or tuning or
noise".
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError, StorageError
from hpstudy.storage import SQLiteStorage
from hpstudy.trials import Trial, Trials, TrialState

if TYPE_CHECKING:
    from hpstudy.study._loop import Study

__all__ = ["CONFIRM_NAMESPACE", "ConfirmList", "confirm_storage", "confirm_study", "load_confirm",
           "select_configurations"]

CONFIRM_NAMESPACE = "confirm"
"""The namespace of the confirm phase in the search's SQLite file (its ``meta`` row
``confirm`` and its table ``confirm_events``, as files of earlier versions have them)."""


def confirm_storage(path: str | os.PathLike, *, read_only: bool = False,
                    like: Any = None) -> SQLiteStorage:
    """The storage of the confirm phase in the study file ``path``.

    ``like``: a storage whose durability and lock timeout it takes (the search's).
    """
    return SQLiteStorage(path, namespace=CONFIRM_NAMESPACE, read_only=read_only,
                         durability=getattr(like, "durability", "normal"),
                         timeout=getattr(like, "timeout", 60.0))


class ConfirmList:
    """An optimizer that suggests a fixed list of configurations, in order, once each.

    The next suggestion is entry ``len(trials)``: a pure function of the trials,
    so a resumed confirm phase goes on where it stopped.
    """

    def __init__(self, configurations: list[dict[str, Any]]) -> None:
        self.configurations = [dict(c) for c in configurations]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConfirmList) and other.configurations == self.configurations

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ConfirmList({len(self.configurations)} configurations)"

    def ask(self, space: Any, trials: Trials, n: int, rng: Any) -> list[dict[str, Any]]:
        """The next ``n`` configurations of the list (fewer, or none, at its end)."""
        start = len(trials)
        return [dict(c) for c in self.configurations[start:start + n]]


def _rank_key(trial: Trial, trials: Trials) -> tuple:
    """Sort key, best first: COMPLETE by value; then PRUNED by how far they got, then value."""
    sign = trials.goal.sign
    value = trial.value if trial.value is not None and math.isfinite(trial.value) else -math.inf
    if trial.state is TrialState.COMPLETE:
        return (0, 0, -sign * value if value != -math.inf else math.inf, trial.number)
    depth = max((len([r for r in trial.reports if r.fold == f])
                 for f in {r.fold for r in trial.reports}), default=0)
    return (1, -depth, -sign * value if value != -math.inf else math.inf, trial.number)


def select_configurations(trials: Trials, top: int, per_model: str | None = None
                          ) -> list[tuple[int, dict[str, Any]]]:
    """The ``top`` best configurations (per value of ``per_model``), best first.

    COMPLETE trials rank by value; PRUNED ones after them, deeper-going first
    (a pruned trial's last value is no final value), then by value; FAILED and
    RUNNING trials are never chosen. A configuration tried twice counts once.

    Parameters
    ----------
    trials : Trials
        The search's trials.
    top : int
        How many configurations (per model value).
    per_model : str, optional
        A parameter: choose the ``top`` best of each of its values.

    Returns
    -------
    list of (int, dict)
        ``(search trial number, parameters)``; grouped by model value (in order of
        first appearance) when ``per_model`` is given.
    """
    top = check_int("top", top, minimum=1)
    usable = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    if per_model is not None and not any(per_model in t.params for t in trials):
        names = sorted({k for t in trials for k in t.params})
        raise ConfigError(f"per_model: no parameter {per_model!r} in the study "
                          f"(parameters: {', '.join(names)})")
    ranked = sorted(usable, key=lambda t: _rank_key(t, trials))
    groups: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    seen: set[str] = set()
    for t in ranked:
        key = json.dumps(dict(t.params), sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        level = t.params.get(per_model) if per_model is not None else None
        chosen = groups.setdefault(json.dumps(level, default=str), [])
        if len(chosen) < top:
            chosen.append((t.number, dict(t.params)))
    if per_model is not None:  # model values in order of first appearance in the search
        order = list(dict.fromkeys(json.dumps(t.params.get(per_model), default=str)
                                   for t in trials if per_model in t.params))
        return [c for level in order for c in groups.get(level, [])]
    return [c for chosen in groups.values() for c in chosen]


def _settings(top: int, per_model: str | None, seeds: int) -> dict[str, Any]:
    return {"top": top, "per_model": per_model, "seeds": seeds}


def _confirm_folds(folds: Any, seeds: int) -> Any:
    if seeds == 1:
        return folds
    if folds is None:
        raise ConfigError("seeds: seed repeats need folds (the study was run without folds: "
                          "use seeds=1, or run the search with folds)")
    from hpstudy.evaluation import with_seed_repeats

    return with_seed_repeats(folds, seeds)


def _path(study: Study) -> str:
    path = getattr(study.storage, "path", None)
    if path is None or not os.path.isfile(path):
        raise ConfigError("storage: confirm needs a study stored in a file (storage='study.db')")
    return str(path)


def confirm_study(study: Study, *, top: int = 3, per_model: str | None = None, seeds: int = 1,
                  annotations: dict[str, Any] | None = None) -> Study:
    """The confirm phase of ``study``: created on first call, reopened (to resume) after.

    Parameters
    ----------
    study : Study
        The search study (stored in a file).
    top, per_model, seeds :
        See :meth:`Study.confirm <hpstudy.Study.confirm>`.
    annotations : dict, optional
        Further notes stored with a new confirm phase.

    Returns
    -------
    Study
        The confirm phase, with a :class:`ConfirmList` optimizer, no stopper, and
        folds ``with_seed_repeats(study.folds, seeds)``.

    Raises
    ------
    ConfigError
        When the file already holds a confirm phase with other settings, when the
        search has no configuration to confirm, or on bad arguments.
    """
    top = check_int("top", top, minimum=1)
    seeds = check_int("seeds", seeds, minimum=1)
    if per_model is not None and per_model not in study.space.names:
        raise ConfigError(f"per_model: no parameter {per_model!r} in the space "
                          f"(parameters: {', '.join(study.space.names)})")
    store = confirm_storage(_path(study), like=study.storage)
    wanted = _settings(top, per_model, seeds)
    if store.exists():
        stored = store.load_meta().get("annotations") or {}
        if stored.get("search_study_id") != study.study_id:
            raise StorageError(f"storage {store.path!r}: its confirm phase belongs to another "
                               f"study")
        old = {k: stored.get(k) for k in wanted}
        if old != wanted:
            raise ConfigError(f"confirm: the file already holds a confirm phase with {old}, "
                              f"not {wanted}; continue it with the same settings")
        configurations = [c["params"] for c in stored["configurations"]]
        notes = stored
    else:
        chosen = select_configurations(study.trials, top, per_model)
        if not chosen:
            raise ConfigError("confirm: the search has no COMPLETE or PRUNED trial to confirm")
        configurations = [p for _, p in chosen]
        notes = {**dict(annotations or {}), **study.annotations, "phase": "confirm",
                 "search_study_id": study.study_id, **wanted,
                 "configurations": [{"source": n, "params": p} for n, p in chosen],
                 "planned_trials": len(chosen)}
    return type(study)(study.space, metric=study.metric, goal=study.goal,
                 optimizer=ConfirmList(configurations), stopper=None,
                 folds=_confirm_folds(study.folds, seeds), storage=store, seed=study.seed,
                 run_cap=len(configurations), name=f"{study.name} (confirm)",
                 annotations=notes)


def load_confirm(cls: type[Study], storage: Any, *, folds: Any = None) -> Study:
    """Reopen the confirm phase stored in ``storage`` (a path), to read or resume it.

    Parameters
    ----------
    cls : type
        :class:`~hpstudy.Study` (or a subclass).
    storage : str, os.PathLike or SQLiteStorage
        The search study's file, or its storage: ``SQLiteStorage(path,
        read_only=True)`` reads the phase without writing to the file (read-only
        media included); a path opens it to resume it too.
    folds : Folds, optional
        The search's folds (without seed repeats); required to resume a phase
        run on folds, not to read it.

    Raises
    ------
    StorageError
        ``holds no confirm phase (run `hpstudy confirm PATH` first)``, or the file
        is missing or unreadable.
    """
    from hpstudy.study import _meta as meta_mod

    if isinstance(storage, SQLiteStorage):
        path, read_only, like = storage.path, storage.read_only, storage
    elif isinstance(storage, (str, os.PathLike)):
        path, read_only, like = os.fspath(storage), False, None
    else:
        raise ConfigError(f"storage: must be the study's file path (got {type(storage).__name__})")
    if not os.path.exists(path):
        raise StorageError(f"storage {path!r}: no such file")
    probe = confirm_storage(path, read_only=True)  # looking writes nothing, not even a table
    if not probe.exists():
        probe.close()
        raise StorageError(f"storage {path!r}: holds no confirm phase "
                           f"(run `hpstudy confirm {path}` first)")
    if read_only:
        store = probe
    else:
        probe.close()
        store = confirm_storage(path, like=like)
    meta = store.load_meta()
    notes = meta.get("annotations") or {}
    configurations = [c["params"] for c in notes.get("configurations", [])]
    if folds is not None:
        folds = _confirm_folds(folds, int(notes.get("seeds", 1)))
    # without folds, settings_from_meta stands StoredFolds in: reading works, running asks
    settings = meta_mod.settings_from_meta(meta, folds=folds, optimizer=ConfirmList(configurations),
                                           stopper=None)
    return cls(**settings, storage=store)


def run_confirm(study: Study, objective: Callable[..., Any], *, top: int, per_model: str | None,
                seeds: int, n_jobs: int | None, executor: Any, progress: bool | None) -> Study:
    """Create or reopen the confirm phase and run what is left of it; return it."""
    phase = confirm_study(study, top=top, per_model=per_model, seeds=seeds)
    phase.run(objective, n_jobs=n_jobs, executor=executor, progress=progress)
    return phase
