"""Helpers of :class:`hpstudy.Study`: argument checks, the stored metadata, fold summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from hpstudy.errors import ConfigError, StorageError, did_you_mean
from hpstudy.trials import Goal, Trial, TrialState

if TYPE_CHECKING:
    from hpstudy.study import Study

META_FORMAT = 1
# Keys that must match for a stored study to be continued; the rest may change.
_IDENTITY = ("space", "metric", "goal", "seed", "folds", "early_terminate")


def check_name(name: str, value: Any) -> str:
    """A non-empty string, or ConfigError."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name}: must be a non-empty string (got {value!r})")
    return value


def check_goal(goal: Any) -> Goal:
    """``"maximize"``/``"minimize"`` (or a Goal) as a Goal."""
    try:
        return Goal(goal)
    except ValueError:
        raise ConfigError(f"goal: must be 'maximize' or 'minimize' (got {goal!r})") from None


def check_picklable(name: str, value: Any) -> None:
    """ConfigError unless ``value`` can be sent to worker processes."""
    import pickle

    try:
        pickle.dumps(value)
    except Exception as exc:
        raise ConfigError(
            f"{name}: must be picklable to run on worker processes (n_jobs > 1 or an executor): "
            f"define it at the top level of an importable module, not in __main__ of an "
            f"interactive session or inside a function ({type(exc).__name__}: {exc})"
        ) from None


def resolve_optimizer(optimizer: Any) -> tuple[Any, str]:
    """An optimizer object and the name stored for it (rebuildable names only)."""
    if isinstance(optimizer, str):
        from hpstudy.optimizers import OPTIMIZER_NAMES, make_optimizer

        if optimizer.strip().lower() not in OPTIMIZER_NAMES:
            raise ConfigError(f"optimizer: must be one of {list(OPTIMIZER_NAMES)} or an object "
                              f"with an ask method (got {optimizer!r})"
                              f"{did_you_mean(optimizer, OPTIMIZER_NAMES)}")
        return make_optimizer(optimizer), optimizer
    if not callable(getattr(optimizer, "ask", None)):
        raise ConfigError(
            f"optimizer: must be a name or an object with an ask method (got {type(optimizer).__name__})"
        )
    return optimizer, f"custom:{type(optimizer).__qualname__}"


def resolve_stopper(early_terminate: dict | None) -> Any:
    """The stopper a W&B ``early_terminate`` mapping asks for (None for none)."""
    if early_terminate is None:
        return None
    from hpstudy.stopping import make_stopper

    return make_stopper(early_terminate)


def early_terminate_dict(value: Any) -> dict | None:
    """A sweep's ``early_terminate`` (record or mapping) as a plain dict."""
    if value is None:
        return None
    if attrs.has(type(value)):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {k: v for k, v in attrs.asdict(value).items() if v is not None}
    return dict(value)


def folds_meta(folds: Any) -> dict | None:
    """What is stored about the folds: their description and fingerprint."""
    if folds is None:
        return None
    return {"describe": folds.describe(), "fingerprint": folds.fingerprint()}


def build_meta(study: Study, optimizer_name: str) -> dict[str, Any]:
    """The metadata a new study stores."""
    from hpstudy._version import __version__

    return {
        "format": META_FORMAT, "hpstudy_version": __version__, "name": study.name,
        "space": study.space.to_dict(), "metric": study.metric, "goal": study.goal.value,
        "seed": study.seed, "optimizer": optimizer_name,
        "early_terminate": study.early_terminate, "folds": folds_meta(study.folds),
        "run_cap": study.run_cap, "target": study.target,
        "annotations": dict(study.annotations),
    }


def check_same_study(wanted: dict[str, Any], stored: dict[str, Any]) -> None:
    """Refuse to continue a stored study with another space, metric, goal, seed or folds."""
    if stored.get("format") != META_FORMAT:
        raise StorageError(f"storage: format {stored.get('format')!r} is not {META_FORMAT}")
    for key in _IDENTITY:
        a, b = stored.get(key), wanted.get(key)
        if key == "folds" and a is not None and b is not None:
            a, b = a["fingerprint"], b["fingerprint"]
        if a != b:
            raise ConfigError(
                f"{key}: differs from the stored study's, which cannot be continued with "
                f"another {key} (stored {_short(a)}, given {_short(b)}); use a new storage file"
            )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 200 else text[:197] + "..."


def settings_from_meta(meta: dict[str, Any], *, folds: Any, optimizer: Any,
                       stopper: Any) -> dict[str, Any]:
    """The keyword arguments that rebuild a stored study."""
    from hpstudy.sweep import space_from_dict

    if meta.get("format") != META_FORMAT:
        raise StorageError(f"storage: format {meta.get('format')!r} is not {META_FORMAT}")
    stored_optimizer = meta.get("optimizer") or "random"
    if optimizer is None:
        if stored_optimizer.startswith("custom:"):
            raise ConfigError(f"optimizer: the study used {stored_optimizer[7:]}; pass it to load()")
        optimizer = stored_optimizer
    if meta.get("folds") is not None and folds is None:
        desc = meta["folds"]["describe"]
        raise ConfigError(f"folds: the study was evaluated on folds ({desc}); pass the same folds")
    return {
        "space": space_from_dict(meta["space"]), "metric": meta["metric"],
        "goal": meta["goal"], "optimizer": optimizer, "stopper": stopper,
        "early_terminate": meta.get("early_terminate"), "folds": folds, "seed": meta["seed"],
        "run_cap": meta.get("run_cap"), "target": meta.get("target"), "name": meta.get("name"),
        "annotations": meta.get("annotations") or {},
    }


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


def progress_bar(total: int | None, progress: bool | None):
    """A tqdm bar (shown on a terminal when ``progress`` is None), or None if tqdm is missing."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, disable=None if progress is None else not progress, unit="trial",
                leave=False)
