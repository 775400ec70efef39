"""Helpers of :class:`hpstudy.Study`: argument checks and the stored metadata.

The metadata is stored once, when a study is created, with its keys in their
order (the space's parameter order decides the suggestions). It holds a random
``study_id``, which ties replays to this study and no other one at the same path,
and the stopper: its settings (``to_dict()``) for the built-in stoppers, its class
path for any other.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import attrs

from hpstudy.errors import ConfigError, StorageError, did_you_mean
from hpstudy.trials import Goal, StopDecision, Trial, Trials

if TYPE_CHECKING:
    from hpstudy.study import Study

META_FORMAT = 1
# Keys that must match for a stored study to be continued; the rest may change.
_IDENTITY = ("space", "metric", "goal", "seed", "folds", "stopper")


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


def resolve_optimizer(optimizer: Any) -> tuple[Any, str]:
    """An optimizer object and the name stored for it: a registry name for a name and for a
    built-in optimizer that its settings rebuild (:func:`optimizer_settings` stores them),
    ``custom:<class>`` for any other object (passed again to resume)."""
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
    from hpstudy.optimizers import optimizer_spec

    spec = optimizer_spec(optimizer)
    if spec is not None:
        return optimizer, spec[0]
    return optimizer, f"custom:{type(optimizer).__qualname__}"


def optimizer_settings(optimizer: Any, name: str) -> dict[str, Any] | None:
    """The settings stored with a built-in optimizer: those that differ from its defaults
    (``{"balance": "model_name"}``), or None when it has its defaults (or is custom)."""
    from hpstudy.optimizers import make_optimizer, optimizer_spec

    spec = None if name.startswith("custom:") else optimizer_spec(optimizer)
    if spec is None:
        return None
    defaults = optimizer_spec(make_optimizer(spec[0]))
    base = defaults[1] if defaults is not None else {}
    changed = {k: v for k, v in spec[1].items() if k not in base or base[k] != v}
    return changed or None


def resolve_stopper(stopper: Any, early_terminate: dict | None) -> Any:
    """The stopper to use: ``stopper``, else the one ``early_terminate`` asks for (None for none)."""
    if stopper is not None:
        if not callable(getattr(stopper, "decide", None)):
            raise ConfigError(f"stopper: must be None or an object with a decide method "
                              f"(got {type(stopper).__name__})")
        return stopper
    if early_terminate is None:
        return None
    from hpstudy.stopping import make_stopper

    return make_stopper(early_terminate)


def _class_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def stopper_meta(stopper: Any) -> dict[str, Any] | None:
    """What is stored about a stopper: a built-in one's settings, any other's class path."""
    from hpstudy.stopping import ASHA, Hyperband, MedianStopper

    if stopper is None:
        return None
    if isinstance(stopper, MissingStopper):
        return dict(stopper.stored)
    if type(stopper) in (Hyperband, ASHA, MedianStopper):  # subclasses are user stoppers
        return stopper.to_dict()
    return {"type": "custom", "class": _class_path(stopper)}


def _stored_stopper(stored: dict[str, Any]) -> Any:
    """The stored stopper record; for files written before it was stored, the one their
    ``early_terminate`` built, or ``...`` when unknown (a stopper object was not recorded)."""
    if "stopper" in stored:
        return stored["stopper"]
    if stored.get("early_terminate") is not None:
        from hpstudy.stopping import make_stopper

        return stopper_meta(make_stopper(stored["early_terminate"]))
    return ...


@attrs.frozen(kw_only=True)
class MissingStopper:
    """Stands for a user-defined stopper a stored study used, when it is loaded without it.

    The study's trials can be read; running it raises :class:`~hpstudy.ConfigError`
    until the stopper is passed again (``Study.load(path, stopper=...)``).
    """

    stored: dict[str, Any]

    @property
    def class_path(self) -> str:
        return str(self.stored.get("class"))

    def error(self) -> ConfigError:
        return ConfigError(
            f"stopper: the study was run with a {self.class_path} stopper, which is stored "
            f"by its class only; pass the same stopper again to resume it: "
            f"Study.load(path, stopper={self.class_path.rpartition('.')[2]}(...))"
        )

    def decide(self, trial: Trial, trials: Trials, report: Any = None) -> StopDecision | None:
        raise self.error()


class StoredFolds:
    """Stands for the folds a stored study was run on, when it is loaded without them.

    Its trials can be read and analysed (the folds' description and fingerprint are
    stored); running more trials raises :class:`~hpstudy.ConfigError` until the same
    folds are passed again (``Study.load(path, folds=...)``, checked by fingerprint).
    """

    def __init__(self, stored: dict[str, Any]) -> None:
        self._stored = stored

    def describe(self) -> dict:
        return self._stored["describe"]

    def fingerprint(self) -> str:
        return self._stored["fingerprint"]

    def __len__(self) -> int:
        return int(self._stored["describe"].get("n_tasks", 1))

    def error(self) -> ConfigError:
        return ConfigError("folds: the study was evaluated on folds that were not passed to "
                           "Study.load; pass the same folds to run more trials "
                           "(Study.load(path, folds=...), or Study.load_confirm(path, folds=...) "
                           "for a confirm phase)")

    def __getitem__(self, index: Any) -> Any:
        raise self.error()

    def __iter__(self) -> Any:
        raise self.error()


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


def preflight(study: Study) -> None:
    """The checks a study's settings need before its storage is created (a failing one
    must not leave a half-created study behind): folds that are Folds, annotations that
    a study file can hold, and a grid search's grid finite and within the limit."""
    import json

    from hpstudy.optimizers import GridSearch

    folds = study.folds
    if folds is not None and not (callable(getattr(folds, "describe", None))
                                  and callable(getattr(folds, "fingerprint", None))):
        raise ConfigError(f"folds: must be hpstudy Folds (from hpstudy.evaluation) or None "
                          f"(got {type(folds).__name__})")
    try:
        json.dumps(study.annotations, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"annotations: must be JSON-able with finite numbers ({exc})") from None
    balance = getattr(study.optimizer, "balance", None)
    if isinstance(balance, str):  # a balanced optimizer: a categorical parameter of the space
        from hpstudy.optimizers import balance_levels

        balance_levels(study.space, balance)
    if isinstance(study.optimizer, GridSearch):
        try:
            size = study.space.grid_size()
        except ConfigError:  # a continuous dimension: the grid's own message says what to use
            size = None
        if size is None or size > 100_000:  # let the grid check its limit (before building)
            study.space.grid()


def build_meta(study: Study, optimizer_name: str) -> dict[str, Any]:
    """The metadata a new study stores."""
    from hpstudy._version import __version__

    return {
        "format": META_FORMAT, "hpstudy_version": __version__, "study_id": uuid.uuid4().hex,
        "name": study.name,
        "space": study.space.to_dict(), "metric": study.metric, "goal": study.goal.value,
        "seed": study.seed, "optimizer": optimizer_name,
        **_settings_entry(optimizer_settings(study.optimizer, optimizer_name)),
        "stopper": stopper_meta(study.stopper),
        "early_terminate": study.early_terminate, "folds": folds_meta(study.folds),
        "run_cap": study.run_cap, "target": study.target,
        "annotations": dict(study.annotations),
    }


def _settings_entry(settings: dict[str, Any] | None) -> dict[str, Any]:
    """The ``optimizer_settings`` key, present only for an optimizer with settings (the
    metadata of other studies stays as it was)."""
    return {} if settings is None else {"optimizer_settings": settings}


def check_same_study(wanted: dict[str, Any], stored: dict[str, Any]) -> None:
    """Refuse to continue a stored study with another space, metric, goal, seed, folds or stopper."""
    if stored.get("format") != META_FORMAT:
        raise StorageError(f"storage: format {stored.get('format')!r} is not {META_FORMAT}")
    for key in _IDENTITY:
        a, b = stored.get(key), wanted.get(key)
        if key == "folds" and a is not None and b is not None:
            a, b = a["fingerprint"], b["fingerprint"]
        if key == "stopper":
            a = _stored_stopper(stored)
            if a is ...:  # a file of an earlier version that ran with a stopper object
                continue
            if b is None and isinstance(a, dict) and a.get("type") == "custom":
                raise MissingStopper(stored=a).error()
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
        from hpstudy.optimizers import make_optimizer

        optimizer = make_optimizer(stored_optimizer, **(meta.get("optimizer_settings") or {}))
    if meta.get("folds") is not None and folds is None:
        folds = StoredFolds(meta["folds"])  # reading works; run() asks for the folds
    if stopper is None:
        stored_stopper = _stored_stopper(meta)
        if isinstance(stored_stopper, dict) and stored_stopper.get("type") == "custom":
            stopper = MissingStopper(stored=stored_stopper)  # reading works; run() asks for it
        elif isinstance(stored_stopper, dict):
            from hpstudy.stopping import make_stopper

            stopper = make_stopper(stored_stopper)
    return {
        "space": space_from_dict(meta["space"]), "metric": meta["metric"],
        "goal": meta["goal"], "optimizer": optimizer, "stopper": stopper,
        "early_terminate": meta.get("early_terminate"), "folds": folds, "seed": meta["seed"],
        "run_cap": meta.get("run_cap"), "target": meta.get("target"), "name": meta.get("name"),
        "annotations": meta.get("annotations") or {},
    }


def progress_bar(total: int | None, progress: bool | None):
    """A tqdm bar (shown on a terminal when ``progress`` is None), or None if tqdm is missing."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, disable=None if progress is None else not progress, unit="trial",
                leave=False)
