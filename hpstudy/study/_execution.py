"""Running evaluation tasks: the task record, the function workers run, executors.

A task is one fold (or the single holdout evaluation) of one trial. Any
:class:`concurrent.futures.Executor` can run tasks: :class:`SerialExecutor` in
the calling process, a process pool for ``n_jobs > 1``, or a cluster's executor
(Dask's ``Client.get_executor()``) passed as ``executor=``. The worker writes its
own result to storage before returning it, so a crash of the coordinating
process loses nothing a worker finished.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from hpstudy._validation import check_int, is_finite_number
from hpstudy.errors import ConfigError, TrialPruned
from hpstudy.storage import EventKind, Storage
from hpstudy.study.context import TrialContext
from hpstudy.trials import Goal, TrialState

__all__ = ["SerialExecutor", "Task", "TaskOutcome", "make_executor", "run_task"]


@attrs.frozen(kw_only=True)
class Task:
    """Everything a worker needs to run one fold of one trial (picklable)."""

    objective: Callable[..., Any]
    storage: Storage
    number: int
    params: dict[str, Any]
    objective_params: dict[str, Any]
    fold: Any
    seed: int
    stopper: Any
    metric: str
    goal: Goal

    @property
    def fold_index(self) -> int:
        return 0 if self.fold is None else int(self.fold.index)

    @property
    def repeat(self) -> int:
        return 0 if self.fold is None else int(getattr(self.fold, "repeat", 0))


@attrs.frozen(kw_only=True)
class TaskOutcome:
    """What a worker sends back: the fold's state, metrics and error."""

    number: int
    fold: int
    state: TrialState
    metrics: dict[str, float]
    error: str | None
    duration: float


class BadResult(ValueError):
    """The objective returned something that is not a finite number or a dict of them."""


def coerce_metrics(result: Any, metric: str) -> dict[str, float]:
    """Turn an objective's return value into a metrics dict, or raise :class:`BadResult`."""
    if isinstance(result, Mapping):
        out: dict[str, float] = {}
        for key, value in result.items():
            if not isinstance(key, str):
                raise BadResult(f"objective returned a dict with a non-string key {key!r}")
            if not is_finite_number(value):
                raise BadResult(f"objective returned {value!r} for {key!r} (a finite number is required)")
            out[key] = float(value)
        if metric not in out:
            raise BadResult(f"objective returned no {metric!r} (got keys {sorted(out)})")
        return out
    if getattr(result, "shape", None) == () and hasattr(result, "item"):
        result = result.item()  # a 0-d array or a tensor scalar
    if is_finite_number(result):
        return {metric: float(result)}
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        raise BadResult(f"objective returned {result!r} (a finite number is required)")
    raise BadResult(
        f"objective returned {type(result).__name__}: a finite number or a dict of numbers is required"
    )


def run_task(task: Task) -> TaskOutcome:
    """Run one task: call the objective, record the fold's result in storage, return it."""
    ctx = TrialContext(trial_number=task.number, seed=task.seed, fold=task.fold, params=task.params,
                       storage=task.storage, stopper=task.stopper, metric=task.metric, goal=task.goal)
    start = time.perf_counter()
    state, metrics, error = TrialState.COMPLETE, {}, None
    try:
        result = task.objective(task.objective_params, ctx)
        if ctx.pruned:
            raise TrialPruned("pruned")
        metrics = coerce_metrics(result, task.metric)
    except TrialPruned:
        state = TrialState.PRUNED
        metrics = {} if ctx.last_value is None else {task.metric: ctx.last_value}
    except BadResult as exc:
        state, error = TrialState.FAILED, str(exc)
    except Exception as exc:  # a bad trial is data, not a crash
        state, error = TrialState.FAILED, _describe(exc)
    outcome = TaskOutcome(number=task.number, fold=task.fold_index, state=state, metrics=metrics,
                          error=error, duration=time.perf_counter() - start)
    record_outcome(task, outcome)
    return outcome


def record_outcome(task: Task, outcome: TaskOutcome) -> None:
    """Append the fold's result to storage (what every finished task must do first)."""
    task.storage.append(EventKind.FOLD_FINISHED, task.number, {
        "fold": outcome.fold, "repeat": task.repeat, "seed": task.seed,
        "state": outcome.state.value, "metrics": outcome.metrics, "error": outcome.error,
        "duration": outcome.duration,
    })


def _describe(exc: BaseException) -> str:
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    text = "".join(tb[-3:]).strip()
    return f"{type(exc).__name__}: {exc}\n{text[-2000:]}"


class SerialExecutor(cf.Executor):
    """Runs each task in the calling process at submission; the future is done on return."""

    def submit(self, fn, /, *args, **kwargs):
        """Call ``fn(*args, **kwargs)`` now; return a future holding its result or exception."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def make_executor(n_jobs: int, executor: cf.Executor | None = None, *,
                  start_method: str = "spawn") -> tuple[cf.Executor, bool]:
    """Return ``(executor, owned)``: the executor to use and whether the study must shut it down.

    Parameters
    ----------
    n_jobs : int
        1 runs in this process; more starts a process pool of that size.
    executor : concurrent.futures.Executor, optional
        Use this one instead (a Dask client's ``get_executor()``, say).
    start_method : str
        The multiprocessing start method of the pool. "spawn" (the default) is
        safe with threads and TensorFlow; objectives must be importable.
    """
    n_jobs = check_int("n_jobs", n_jobs, 1)
    if executor is not None:
        if not isinstance(executor, cf.Executor) and not hasattr(executor, "submit"):
            raise ConfigError(f"executor: must have a submit method (got {type(executor).__name__})")
        return executor, False
    if n_jobs == 1:
        return SerialExecutor(), True
    ctx = multiprocessing.get_context(start_method)
    return cf.ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx), True
