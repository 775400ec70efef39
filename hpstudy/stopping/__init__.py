"""Early termination: stoppers judge each intermediate report of a trial.

A stopper is any object with ``decide(trial, trials, report=None) -> StopDecision | None``
(:class:`~hpstudy.stopping.base.Stopper`; the older two-argument form still works).
:func:`make_stopper` builds one from a W&B ``early_terminate`` mapping, and the
built-in stoppers' ``to_dict()`` gives that mapping back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hpstudy.errors import ConfigError, did_you_mean
from hpstudy.stopping._folds import FOLD_RULES, Noise
from hpstudy.stopping._summary import PRUNED_SHARE_LIMIT, pruning_message
from hpstudy.stopping.asha import ASHA
from hpstudy.stopping.base import Stopper
from hpstudy.stopping.hyperband import Hyperband, hyperband_brackets
from hpstudy.stopping.median import MedianStopper

__all__ = [
    "ASHA",
    "FOLD_RULES",
    "Hyperband",
    "MedianStopper",
    "Noise",
    "PRUNED_SHARE_LIMIT",
    "Stopper",
    "hyperband_brackets",
    "make_stopper",
    "pruning_message",
]

# type -> (class, {mapping key: constructor argument})
# ``folds`` and ``noise`` are hpstudy extensions every type takes
_EXTENSIONS = {"folds": "folds", "noise": "noise"}
_TYPES: dict[str, tuple[type, dict[str, str]]] = {
    "hyperband": (Hyperband, {**{k: k for k in ("min_iter", "max_iter", "s", "eta", "strict")},
                              **_EXTENSIONS}),
    # an hpstudy extension, in W&B's vocabulary (min_iter/max_iter as for hyperband)
    "asha": (ASHA, {"min_iter": "min_resource", "max_iter": "max_resource", "eta": "eta",
                    "bootstrap_count": "bootstrap_count", **_EXTENSIONS}),
    "median": (MedianStopper, {**{k: k for k in ("n_warmup_steps", "n_startup_trials")},
                               **_EXTENSIONS}),
}


def make_stopper(early_terminate: Mapping[str, Any] | None) -> Stopper | None:
    """Build a stopper from a W&B ``early_terminate`` mapping.

    Parameters
    ----------
    early_terminate : mapping or None
        ``{"type": "hyperband", "min_iter": 3, "eta": 3}`` and the like: the keys of
        W&B's hyperband section (``type``, ``min_iter``, ``max_iter``, ``s``, ``eta``,
        ``strict``); or, as hpstudy extensions, ``type: asha`` with ``min_iter``,
        ``max_iter``, ``eta``, ``bootstrap_count``, or ``type: median`` with
        ``n_warmup_steps``, ``n_startup_trials``. Every type also takes the hpstudy
        extensions ``folds`` (``mean``, ``first`` or ``each``: how a trial evaluated
        on several folds is judged) and ``noise`` (``{n: 300}`` or ``{se: fold}``:
        no stop within one standard error of the threshold). None means no early
        termination.

    Returns
    -------
    Stopper or None
        A :class:`Hyperband`, :class:`ASHA` or :class:`MedianStopper`; None for None.

    Raises
    ------
    ConfigError
        Naming the key (``early_terminate.<key>``) and the rule it breaks: a
        missing or unknown ``type``, an unknown key, a bad value.

    Examples
    --------
    >>> make_stopper({"type": "hyperband", "min_iter": 3, "eta": 3, "s": 2}).brackets[:3]
    (3, 9, 27)
    >>> make_stopper(None) is None
    True
    """
    if early_terminate is None:
        return None
    if not isinstance(early_terminate, Mapping):
        raise ConfigError(
            f"early_terminate: must be a mapping with a 'type' key, such as "
            f"{{type: hyperband, min_iter: 3}} (got {early_terminate!r})"
        )
    if "type" not in early_terminate:
        raise ConfigError(f"early_terminate.type: required, one of {sorted(_TYPES)}")
    kind = early_terminate["type"]
    if kind not in _TYPES:
        raise ConfigError(
            f"early_terminate.type: must be one of {sorted(_TYPES)} (got {kind!r})"
            + did_you_mean(str(kind), _TYPES)
        )
    cls, keys = _TYPES[kind]
    kwargs = {}
    for key, value in early_terminate.items():
        if key == "type":
            continue
        if key not in keys:
            raise ConfigError(
                f"early_terminate.{key}: unknown key for type {kind!r}; allowed: "
                f"{', '.join(['type', *keys])}" + did_you_mean(str(key), keys)
            )
        kwargs[keys[key]] = value
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        message = str(exc)
        for key, arg in keys.items():  # speak the mapping's language
            if message.startswith(f"{arg}:"):
                message = key + message[len(arg):]
                break
        message = message.replace("min_resource", "min_iter").replace("max_resource", "max_iter")
        raise ConfigError(f"early_terminate.{message}") from None
