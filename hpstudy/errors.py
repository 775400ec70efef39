"""The exception family of hpstudy.

Every error hpstudy raises on purpose derives from :class:`HpstudyError`.
Errors caused by bad input also derive from the matching builtin
(:class:`ValueError`, :class:`TypeError`), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "DuplicateEventError",
    "HpstudyError",
    "StorageError",
    "TrialPruned",
    "did_you_mean",
]


class HpstudyError(Exception):
    """Base class of every error raised by hpstudy."""


class ConfigError(HpstudyError, ValueError):
    """Bad input: a configuration, a search space, a parameter or an argument.

    The message names the key path and the rule, for example
    ``parameters.lr.min: must be > 0 for log_uniform_values (got 0)``.
    """


class StorageError(HpstudyError, RuntimeError):
    """The study's storage cannot be read or written, or does not match the study."""


class DuplicateEventError(StorageError):
    """A storage refused an event it already holds (a second ``trial_finished`` for one
    trial, a second ``fold_finished`` for one fold).

    The one storage error a study may read as "already recorded": every other
    :class:`StorageError` (a full disk, a lock held too long) stops the run.
    """


class TrialPruned(HpstudyError):  # noqa: N818 (the name users know from Optuna)
    """Raised by :meth:`TrialContext.report` when the stopper ends a trial early.

    Let it propagate out of the objective: the study records the trial PRUNED
    with its last reported value.
    """


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
