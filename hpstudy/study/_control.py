"""The controls of one run: ``trial_timeout``, ``max_failures`` and graceful stops.

:class:`Deadlines` tells which task in flight ran past ``trial_timeout`` (the
runner records it FAILED, then ends its process through the executor's
``end_task`` hook, :func:`~hpstudy.study._pool.end_task`). :class:`FailureStreak`
counts consecutive FAILED trials. :class:`StopSignals` turns the first SIGINT or
SIGTERM into "start nothing new, let the running tasks finish" and the second
into :class:`~hpstudy.errors.StudyInterrupted` raised at once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from hpstudy._validation import check_int, check_real
from hpstudy.errors import ConfigError, StudyInterrupted, TooManyFailuresError
from hpstudy.study._pool import task_started
from hpstudy.trials import TrialState

__all__ = ["Deadlines", "FailureStreak", "StopSignals", "check_controls", "timeout_error"]

#: How often tasks submitted but not started yet are looked at again (seconds).
POLL_S = 0.2


def check_controls(trial_timeout: Any, max_failures: Any) -> tuple[float | None, int | None]:
    """``trial_timeout`` (a number > 0) and ``max_failures`` (an integer >= 1), checked;
    None stays None (no limit)."""
    if trial_timeout is not None:
        trial_timeout = check_real("trial_timeout", trial_timeout, minimum=0.0)
        if trial_timeout == 0:
            raise ConfigError("trial_timeout: must be > 0 seconds (got 0)")
    if max_failures is not None:
        max_failures = check_int("max_failures", max_failures, minimum=1)
    return trial_timeout, max_failures


def timeout_error(seconds: float) -> str:
    """The error recorded for a task ended by ``trial_timeout``."""
    return f"timeout: ran longer than trial_timeout={seconds:g} s"


class Deadlines:
    """``trial_timeout``: when each task in flight started, and which ran too long.

    A task's time counts from its start on a worker when the executor tells it
    (``task_started``), from its submission otherwise.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.submitted: dict[Any, float] = {}  # future -> time.monotonic() at submission

    def add(self, future: Any) -> None:
        self.submitted[future] = time.monotonic()

    def drop(self, future: Any) -> None:
        self.submitted.pop(future, None)

    def _starts(self, executor: Any, in_flight: Mapping[Any, Any]) -> list[tuple[Any, float | None]]:
        return [(task, task_started(executor, task, self.submitted.get(future, time.monotonic())))
                for future, task in in_flight.items()]

    def overdue(self, executor: Any, in_flight: Mapping[Any, Any]) -> list[Any]:
        """The tasks in flight that have run longer than the limit."""
        now = time.monotonic()
        return [task for task, start in self._starts(executor, in_flight)
                if start is not None and now - start > self.seconds]

    def wait_s(self, executor: Any, in_flight: Mapping[Any, Any]) -> float:
        """How long the runner may wait for a result before looking at the deadlines again."""
        now, starts = time.monotonic(), self._starts(executor, in_flight)
        left = [max(start + self.seconds - now, 0.0) + 0.01 for _, start in starts
                if start is not None]
        if len(left) < len(starts):  # not started yet: look again soon
            left.append(POLL_S)
        return min(left, default=POLL_S)


class FailureStreak:
    """``max_failures``: consecutive FAILED trials, in the order they finish; a COMPLETE or
    PRUNED trial resets the count."""

    def __init__(self, limit: int) -> None:
        self.limit, self.count, self.last_error = limit, 0, ""

    def update(self, state: TrialState, error: str | None) -> TooManyFailuresError | None:
        """Count a finished trial; the error to stop the study with once the limit is reached."""
        if state is not TrialState.FAILED:
            self.count = 0
            return None
        self.count += 1
        lines = (error or "no error message").strip().splitlines() or ["no error message"]
        self.last_error = lines[0]
        return TooManyFailuresError(self.count, self.last_error) if self.count >= self.limit \
            else None


_NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class StopSignals:
    """While active: the first SIGINT or SIGTERM calls ``on_first(signum)`` (the runner starts
    nothing new and lets its running tasks finish); the second raises
    :class:`~hpstudy.errors.StudyInterrupted` where the main thread is.

    Installed only in the main thread (Python runs signal handlers there), and only
    over the default handlers: a handler of the application, or a signal ignored
    (``nohup``, a background job), is left as it is. The handlers in place before
    are put back on exit.
    """

    def __init__(self, on_first: Callable[[int], None]) -> None:
        self.on_first = on_first
        self.received: int | None = None
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
        for signum, default in defaults.items():
            if signal.getsignal(signum) is default:
                self.previous[signum] = default
                signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is not None:
            raise StudyInterrupted(signum, graceful=False)
        self.received = signum
        try:  # os.write: safe at any point the handler may run (print is not)
            name = _NAMES.get(signum, f"signal {signum}")
            os.write(2, (f"hpstudy: {name}: starting no new trials; the running ones finish "
                         f"({name} again interrupts them)\n").encode())
        except OSError:
            pass
        self.on_first(signum)

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous.clear()
