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
    "StudyInterrupted",
    "TooManyFailuresError",
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


class TooManyFailuresError(HpstudyError, RuntimeError):
    """The study stopped: ``max_failures`` trials in a row were FAILED.

    Typical cause: a setting every trial shares is wrong (the metric's name, a
    ``monitor=`` that names no logged value, a missing data path). The failed
    trials are kept in the study file with their errors.

    Attributes
    ----------
    failures : int
        How many consecutive trials failed.
    last_error : str
        The first line of the last failed trial's error.
    """

    def __init__(self, failures: int, last_error: str) -> None:
        self.failures, self.last_error = failures, last_error
        super().__init__(f"stopped after {failures} consecutive failed trials; "
                         f"last error: {last_error}")

    def __reduce__(self) -> tuple:
        return type(self), (self.failures, self.last_error)


class StudyInterrupted(KeyboardInterrupt):
    """:meth:`Study.run <hpstudy.Study.run>` was stopped by Ctrl-C (SIGINT) or SIGTERM.

    A :class:`KeyboardInterrupt`, so a script stops as it does on Ctrl-C
    (``except Exception`` does not catch it). Every finished trial is in the
    study file; trials interrupted while running stay RUNNING and running the
    study again (``hpstudy resume``) runs them again.

    Attributes
    ----------
    signum : int
        The signal (``signal.SIGINT`` or ``signal.SIGTERM``); a command's exit
        status is ``128 + signum`` (130, 143).
    kept : int
        The finished trials in the study file.
    graceful : bool
        True when the running trials were let finish (one signal), False when
        they were interrupted (a second signal).
    """

    def __init__(self, signum: int, kept: int = 0, graceful: bool = True) -> None:
        self.signum, self.kept, self.graceful = int(signum), int(kept), bool(graceful)
        super().__init__(f"interrupted: {self.kept} trials kept")

    def __reduce__(self) -> tuple:
        return type(self), (self.signum, self.kept, self.graceful)


class TrialPruned(HpstudyError):  # noqa: N818 (the name users know from Optuna)
    """Raised by :meth:`TrialContext.report` when the stopper ends a trial early.

    Let it propagate out of the objective: the study records the trial PRUNED
    with its last reported value.
    """


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
