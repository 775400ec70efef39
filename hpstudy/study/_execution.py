"""Running evaluation tasks: the task record, the function workers run, executors.

A task is one fold (or the single holdout evaluation) of one trial. Any
:class:`concurrent.futures.Executor` can run tasks: :class:`SerialExecutor` in
the calling process, a process pool for ``n_jobs > 1``, or a cluster's executor
(Dask's ``Client.get_executor()``) passed as ``executor=``, a thread pool
included (the SQLite storage opens one connection per thread). The worker
writes its own result to storage before returning it, so a crash of the
coordinating process loses nothing a worker finished. A storage failure in a
worker is not a bad trial: it propagates, and stops the run.

Whatever the objective raises is a FAILED fold with the reason, ``SystemExit``
and other ``BaseException`` included; only ``KeyboardInterrupt`` (Ctrl-C) stops
the run, leaving the trial to be resumed. A process the objective forks never
returns into the study. The workers of the pool this module starts exit when
their coordinator dies (a watchdog thread), and a shared board tells which
task each one runs, so that when one dies only its task is blamed
(:class:`WorkerBoard`).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Mapping
from numbers import Integral
from typing import Any

import attrs

from hpstudy._validation import check_int, is_finite_number
from hpstudy.errors import ConfigError, DuplicateEventError, StorageError, TrialPruned
from hpstudy.storage import EventKind, Storage
from hpstudy.study._pool import (
    _IDLE,
    _RUNNING,
    WorkerBoard,
    WorkerPool,
    board_mark,
    can_end_tasks,
    end_all,
    end_task,
    task_started,
    watch_parent,
)
from hpstudy.study.context import TrialContext
from hpstudy.trials import Goal, TrialState

__all__ = ["SerialExecutor", "Task", "TaskOutcome", "WorkerBoard", "WorkerPool", "can_end_tasks",
           "check_picklable", "end_all", "end_task", "executor_width", "make_executor",
           "plan_parallelism", "run_task", "task_started", "watch_parent"]


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
    study_id: str | None = None
    artifacts_root: str | None = None

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


def _call(task: Task, ctx: TrialContext) -> Any:
    """Call the objective; a process it forked ends here instead of going on as a study."""
    pid = os.getpid()
    try:
        result = task.objective(task.objective_params, ctx)
    except BaseException:
        if os.getpid() != pid:
            os._exit(1)
        raise
    if os.getpid() != pid:
        os._exit(0)
    return result


def run_task(task: Task) -> TaskOutcome:
    """Run one task: call the objective, record the fold's result in storage, return it."""
    ctx = TrialContext(trial_number=task.number, seed=task.seed, fold=task.fold,
                       params=dict(task.params), storage=task.storage, stopper=task.stopper,
                       metric=task.metric, goal=task.goal, study_id=task.study_id,
                       artifacts_root=task.artifacts_root)
    start = time.perf_counter()
    state, metrics, error = TrialState.COMPLETE, {}, None
    board_mark(_RUNNING, task)
    try:
        result = _call(task, ctx)
        if ctx.pruned:
            raise TrialPruned("pruned")
        metrics = coerce_metrics(result, task.metric)
    except TrialPruned:
        state = TrialState.PRUNED
        metrics = {} if ctx.last_value is None else {task.metric: ctx.last_value}
    except BadResult as exc:
        state, error = TrialState.FAILED, str(exc)
    except StorageError:  # ctx.report could not record: the storage failed, not the trial
        board_mark(_IDLE, task)
        raise
    except KeyboardInterrupt:  # Ctrl-C: stop the run; the trial stays RUNNING, to resume
        board_mark(_IDLE, task)
        raise
    except BaseException as exc:  # a bad trial is data, not a crash (sys.exit included)
        state, error = TrialState.FAILED, _describe(exc)
    outcome = TaskOutcome(number=task.number, fold=task.fold_index, state=state, metrics=metrics,
                          error=error, duration=time.perf_counter() - start)
    try:
        record_outcome(task, outcome)
    except DuplicateEventError:
        # another process recorded this fold first (a worker left running by a killed
        # coordinator): the log keeps the first result, and the study reads the log
        pass
    finally:
        board_mark(_IDLE, task)
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
    if isinstance(exc, SystemExit):
        return f"SystemExit: the objective called sys.exit({exc.code!r})\n{text[-2000:]}"
    return f"{type(exc).__name__}: {exc}\n{text[-2000:]}"


class SerialExecutor(cf.Executor):
    """Runs each task in the calling process at submission; the future is done on return."""

    max_workers = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        """Call ``fn(*args, **kwargs)`` now; return a future holding its result or exception."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def make_executor(n_jobs: int, executor: cf.Executor | None = None, *,
                  start_method: str = "spawn", isolate: bool = False) -> tuple[cf.Executor, bool]:
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
    isolate : bool
        Run even ``n_jobs=1`` in a (1-worker) process pool, whose worker can be
        ended (``trial_timeout``: the coordinator cannot kill itself).
    """
    n_jobs = check_int("n_jobs", n_jobs, 1)
    if executor is not None:
        if not isinstance(executor, cf.Executor) and not hasattr(executor, "submit"):
            raise ConfigError(f"executor: must have a submit method (got {type(executor).__name__})")
        return executor, False
    if n_jobs == 1 and not isolate:
        return SerialExecutor(), True
    return WorkerPool(n_jobs, multiprocessing.get_context(start_method)), True


def executor_width(executor: Any, n_jobs: int | None) -> int:
    """How many tasks the study keeps in flight on a given ``executor``.

    ``n_jobs`` when given; otherwise the executor's own number of workers: the
    ``_max_workers`` of :mod:`concurrent.futures` pools, or a ``max_workers``
    attribute. An executor that tells neither (Dask's ``Client.get_executor()``)
    needs ``n_jobs``: ConfigError otherwise.
    """
    if n_jobs is not None:
        return check_int("n_jobs", n_jobs, 1)
    for name in ("_max_workers", "max_workers"):
        width = getattr(executor, name, None)
        if isinstance(width, Integral) and not isinstance(width, bool) and int(width) >= 1:
            return int(width)
    raise ConfigError(
        f"n_jobs: required with executor={type(executor).__name__}, which does not say how "
        f"many tasks it runs at once (no max_workers); pass its number of workers, e.g. "
        f"n_jobs=sum(client.nthreads().values()) for a Dask client"
    )


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


#: The most worker processes one study starts on one machine.
MAX_JOBS = 1024


def plan_parallelism(n_jobs: int | None, executor: Any, *, storage: Any, objective: Any,
                     stopper: Any, trial_timeout: float | None = None) -> int:
    """Check a run's parallel settings; return how many tasks to keep in flight.

    Without ``executor``: ``n_jobs`` (default 1). With one: its width
    (:func:`executor_width`). Parallel runs need a shareable storage, and
    (except on a thread pool, whose threads share the objects) a picklable
    objective and stopper. A ``trial_timeout`` needs tasks in processes that can
    be ended: hpstudy's own pool (``n_jobs=1`` included) or an executor with an
    ``end_task`` method (:func:`end_task`).
    """
    if executor is None:
        width = 1 if n_jobs is None else check_int("n_jobs", n_jobs, 1, MAX_JOBS)
    else:
        make_executor(1, executor)  # validates the executor
        width = executor_width(executor, n_jobs)
        if trial_timeout is not None and not can_end_tasks(executor):
            raise ConfigError(
                f"trial_timeout: cannot be enforced on executor={type(executor).__name__}, "
                f"which cannot end a running task (a thread cannot be killed); leave out "
                f"executor= (hpstudy's process pool, n_jobs=N, ends the task's worker) or "
                f"leave out trial_timeout")
    if width == 1 and executor is None and trial_timeout is None:
        return width
    if not getattr(storage, "shareable", False):
        why = ("trial_timeout runs trials in a worker process, which needs"
               if width == 1 and executor is None else "parallel runs need")
        raise ConfigError(f"storage: {why} a storage shared by processes "
                          f"(pass a file path, e.g. storage='study.db')")
    if not isinstance(executor, cf.ThreadPoolExecutor):
        check_picklable("objective", objective)
        check_picklable("stopper", stopper)
    return width
