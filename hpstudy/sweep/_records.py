"""The records of a sweep's settings: Metric and EarlyTerminate.

Private: users import them from :mod:`hpstudy.sweep`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from hpstudy._validation import plain, short
from hpstudy.errors import ConfigError, did_you_mean
from hpstudy.sweep._params import _keyname
from hpstudy.trials import Goal

__all__ = ["EarlyTerminate", "Metric", "parse_early_terminate"]

_METRIC_KEYS = ("name", "goal", "target", "impute", "impute_while_running")
_HYPERBAND_KEYS = ("type", "min_iter", "max_iter", "s", "eta", "strict", "folds", "noise")


def _opt_str(value: Any, name: str, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name}: must be one of {', '.join(choices)} (got {short(value)})")
    return value


def _opt_int(value: Any, name: str, minimum: int) -> int | None:
    """None or an integer >= minimum; an integral float (``10.0``) counts, as in
    W&B's JSON schema (draft 7: ``type: integer`` accepts ``10.0``)."""
    value = plain(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: must be an integer (got {short(value)})")
    if value < minimum:
        raise ConfigError(f"{name}: must be >= {minimum} (got {short(value)})")
    if value > 2**53:
        raise ConfigError(f"{name}: must be <= 2**53 (got a {len(str(value))}-digit integer)")
    return value


@attrs.frozen(kw_only=True)
class Metric:
    """The metric a sweep optimises (W&B's ``metric:`` section).

    Parameters
    ----------
    name : str
        The metric's name, a key of what the objective returns.
    goal : Goal, default Goal.MINIMIZE
        W&B's default is ``minimize``.
    target : float or None
        The sweep stops once a trial reaches it (W&B semantics).
    impute, impute_while_running : str or None
        W&B's imputation settings: accepted and kept, unused locally.
    """

    name: str
    goal: Goal = Goal.MINIMIZE
    target: float | None = None
    impute: str | None = None
    impute_while_running: str | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"metric.name: must be a non-empty string (got {short(self.name)})")
        goal = self.goal
        if isinstance(goal, str) and goal in {g.value for g in Goal}:
            goal = Goal(goal)
        if not isinstance(goal, Goal):
            raise ConfigError(f"metric.goal: must be maximize or minimize (got {short(goal)})"
                              + (did_you_mean(goal, ["maximize", "minimize"])
                                 if isinstance(goal, str) else ""))
        object.__setattr__(self, "goal", goal)
        target = plain(self.target)
        if target is not None:
            if isinstance(target, bool) or not isinstance(target, (int, float)):
                raise ConfigError(f"metric.target: must be a number (got {short(target)})")
            try:
                target = float(target)
            except OverflowError:
                raise ConfigError("metric.target: must be a finite number") from None
            if not math.isfinite(target):
                raise ConfigError(f"metric.target: must be a finite number (got {target!r})")
        object.__setattr__(self, "target", target)
        _opt_str(self.impute, "metric.impute", ("latest", "best", "worst"))
        _opt_str(self.impute_while_running, "metric.impute_while_running",
                 ("latest", "best", "worst", "false"))

    @classmethod
    def from_dict(cls, d: Any) -> Metric:
        """Read W&B's ``metric:`` mapping (``name`` required, ``goal`` default minimize).

        Parameters
        ----------
        d : dict
            The mapping.

        Returns
        -------
        Metric
        """
        if not isinstance(d, Mapping):
            raise ConfigError(f"metric: must be a mapping such as {{name: val_accuracy, goal: "
                              f"maximize}} (got {type(d).__name__})")
        for key in d:
            if key not in _METRIC_KEYS:
                raise ConfigError(f"metric.{_keyname(key)}: unknown key; allowed: "
                                  f"{', '.join(_METRIC_KEYS)}"
                                  f"{did_you_mean(str(key), _METRIC_KEYS)}")
        if "name" not in d:
            raise ConfigError("metric.name: required")
        return cls(**{k: plain(v) for k, v in d.items()})

    def to_dict(self) -> dict[str, Any]:
        """The W&B mapping.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"name": self.name, "goal": self.goal.value}
        for key in ("target", "impute", "impute_while_running"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@attrs.frozen(kw_only=True)
class EarlyTerminate:
    """W&B's ``early_terminate: {type: hyperband, ...}`` section, validated.

    Parameters
    ----------
    type : str
        ``"hyperband"``.
    min_iter : int or None
        First bracket (>= 1); brackets ``min_iter * eta**k``.
    max_iter : int or None
        Last bracket (>= 1), used with ``s``; brackets ``max_iter / eta**k``, k = 1..s.
    s : int or None
        Number of brackets (>= 1), with ``max_iter``.
    eta : float, default 3
        Bracket multiplier (> 1).
    strict : bool, default True
        Judge the value at the bracket, not the best so far (the engine's default).
    folds : {"mean", "first", "each"}, optional
        hpstudy extension: how a trial evaluated on several folds is judged
        (None: the default, ``mean``; see :doc:`/early_stopping`).
    noise : dict, optional
        hpstudy extension: ``{n: 300}`` or ``{se: fold}``, no stop within one
        standard error of the bracket's threshold.

    Either ``min_iter`` or both ``max_iter`` and ``s`` must be given (W&B's rule).
    """

    type: str = "hyperband"
    min_iter: int | None = None
    max_iter: int | None = None
    s: int | None = None
    eta: float = 3
    strict: bool = True
    folds: str | None = None
    noise: dict[str, Any] | None = attrs.field(default=None, hash=False)

    def __attrs_post_init__(self) -> None:
        if self.type != "hyperband":
            raise ConfigError(f"early_terminate.type: must be hyperband (got {short(self.type)})")
        for key in ("min_iter", "max_iter", "s"):
            object.__setattr__(self, key, _opt_int(getattr(self, key), f"early_terminate.{key}", 1))
        eta = plain(self.eta)
        if isinstance(eta, bool) or not isinstance(eta, (int, float)):
            raise ConfigError(f"early_terminate.eta: must be a number (got {short(eta)})")
        try:
            finite = math.isfinite(float(eta))
        except OverflowError:
            finite = False
        if not finite or eta <= 1:
            raise ConfigError(f"early_terminate.eta: must be a finite number > 1 "
                              f"(got {short(eta)})")
        object.__setattr__(self, "eta", eta)
        if not isinstance(plain(self.strict), bool):
            raise ConfigError(f"early_terminate.strict: must be true or false "
                              f"(got {short(self.strict)})")
        object.__setattr__(self, "strict", plain(self.strict))
        if self.min_iter is None and (self.max_iter is None or self.s is None):
            raise ConfigError("early_terminate: needs min_iter, or both max_iter and s "
                              "(W&B's hyperband rule)")
        if self.folds is not None and self.folds not in ("mean", "first", "each"):
            raise ConfigError(f"early_terminate.folds: must be one of mean, first, each "
                              f"(got {short(self.folds)})")
        if self.noise is not None:
            if not isinstance(self.noise, Mapping):
                raise ConfigError(f"early_terminate.noise: must be a mapping such as {{n: 300}} "
                                  f"or {{se: fold}} (got {short(self.noise)})")
            object.__setattr__(self, "noise", {str(k): plain(v) for k, v in self.noise.items()})

    def to_dict(self) -> dict[str, Any]:
        """The W&B mapping (unset keys left out).

        Returns
        -------
        dict
        """
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


def parse_early_terminate(d: Any) -> EarlyTerminate | dict[str, Any]:
    if not isinstance(d, Mapping):
        raise ConfigError(f"early_terminate: must be a mapping such as {{type: hyperband, "
                          f"min_iter: 3}} (got {type(d).__name__})")
    kind = plain(d.get("type"))
    if kind is None:
        raise ConfigError("early_terminate.type: required (hyperband)")
    if kind == "hyperband":
        for key in d:
            if key not in _HYPERBAND_KEYS:
                raise ConfigError(f"early_terminate.{_keyname(key)}: unknown key for hyperband; "
                                  f"allowed: {', '.join(_HYPERBAND_KEYS)}"
                                  f"{did_you_mean(str(key), _HYPERBAND_KEYS)}")
        record = EarlyTerminate(**{k: plain(v) for k, v in d.items()})
        _check_with_stopper(record.to_dict())
        return record
    # hpstudy extensions (asha): validated by the stopper factory itself
    if not isinstance(kind, str):
        raise ConfigError(f"early_terminate.type: must be hyperband (got {short(kind)})")
    _check_with_stopper(dict(d))
    return {k: plain(v) for k, v in d.items()}


def _check_with_stopper(d: dict[str, Any]) -> None:
    from hpstudy.stopping import make_stopper

    make_stopper(d)
