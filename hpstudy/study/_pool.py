"""The workers of the process pool a study owns, and the hooks that end a task.

:class:`WorkerPool` is the pool :func:`~hpstudy.study._execution.make_executor`
starts: its workers share a :class:`WorkerBoard` (which worker runs which task,
its pid and since when), ignore SIGINT, and exit when their coordinator dies.
:func:`end_task` is how ``trial_timeout`` ends a task on any executor that can.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hpstudy.study._execution import Task

__all__ = ["WorkerBoard", "WorkerPool", "board_mark", "can_end_tasks", "end_all", "end_task",
           "task_started", "watch_parent"]

_IDLE, _RUNNING, _TERMINATED = 0, 1, 2
_CELLS = 5  # per worker: state, trial number, fold, pid, start (time.monotonic_ns)
_WORKER: dict[str, Any] = {}  # in a pool worker: the board and this worker's slot


class WorkerBoard:
    """Which task each worker of a process pool runs, in memory the workers share.

    When a worker dies, :class:`concurrent.futures.ProcessPoolExecutor` fails every
    task in flight and terminates the other workers (SIGTERM). Each worker marks
    its slot TERMINATED when it receives SIGTERM; the one that died otherwise
    (killed, out of memory, ``os._exit``) leaves its slot RUNNING: its task is the
    one to blame, and the others were innocent.
    """

    def __init__(self, context: Any, size: int) -> None:
        self.size = size
        self.cells = context.RawArray("q", _CELLS * size)
        self.counter = context.Value("i", 0)

    def initargs(self) -> tuple[Any, Any, int, int]:
        return (self.cells, self.counter, self.size, os.getpid())

    def culprits(self) -> set[tuple[int, int]]:
        """The (trial, fold) of the tasks whose worker died while running them."""
        out = set()
        for slot in range(self.size):
            state, number, fold = self.cells[_CELLS * slot:_CELLS * slot + 3]
            if state == _RUNNING:
                out.add((int(number), int(fold)))
        return out

    def running(self, task: Task) -> tuple[int, float] | None:
        """``(pid, start)`` of the worker running ``task`` (start in :func:`time.monotonic`
        seconds, a clock every process of the machine shares), or None."""
        for slot in range(self.size):
            state, number, fold, pid, start = self.cells[_CELLS * slot:_CELLS * slot + _CELLS]
            if state == _RUNNING and (number, fold) == (task.number, task.fold_index) and pid:
                return int(pid), start / 1e9
        return None

    def pids(self) -> list[int]:
        """The process ids of the workers started so far."""
        return [int(p) for p in self.cells[3::_CELLS] if p]


class WorkerPool(cf.ProcessPoolExecutor):
    """The process pool :func:`make_executor` starts: its workers share a :class:`WorkerBoard`,
    ignore SIGINT and can be ended one task at a time (:func:`end_task`)."""

    def __init__(self, n_jobs: int, context: Any) -> None:
        self.hpstudy_board = WorkerBoard(context, n_jobs)
        super().__init__(max_workers=n_jobs, mp_context=context, initializer=_init_worker,
                         initargs=self.hpstudy_board.initargs())

    def task_started(self, task: Task) -> float | None:
        """When ``task`` started on a worker (:func:`time.monotonic`), None when it has not."""
        found = self.hpstudy_board.running(task)
        return None if found is None else found[1]

    def end_task(self, task: Task) -> bool:
        """Kill (SIGKILL) the worker running ``task``; False when none runs it. The pool
        then breaks: :class:`WorkerBoard` tells the other tasks were innocent."""
        found = self.hpstudy_board.running(task)
        if found is None:
            return False
        _kill(found[0])
        return True

    def end_all(self) -> None:
        """Kill every worker now (their tasks stay RUNNING in the log, to be resumed)."""
        for pid in self.hpstudy_board.pids():
            _kill(pid)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # already gone (or the pid was reused)
        pass


def board_mark(state: int, task: Task) -> None:
    cells = _WORKER.get("cells")
    if cells is None:
        return
    base = _CELLS * _WORKER["slot"]
    if state == _RUNNING:
        cells[base + 1], cells[base + 2] = task.number, task.fold_index
        cells[base + 4] = time.monotonic_ns()
    cells[base] = state


def _on_terminate(signum: int, frame: Any) -> None:
    cells = _WORKER.get("cells")
    if cells is not None and cells[_CELLS * _WORKER["slot"]] == _RUNNING:
        cells[_CELLS * _WORKER["slot"]] = _TERMINATED
    os._exit(128 + signum)


def watch_parent(parent: int, interval: float = 0.2) -> threading.Thread:
    """Start a daemon thread that ends this process when ``parent`` is no longer its parent
    (the coordinator died: a worker must not live on and write into the study)."""
    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(70)

    thread = threading.Thread(target=watch, name="hpstudy-watch-parent", daemon=True)
    thread.start()
    return thread


def _init_worker(cells: Any, counter: Any, size: int, parent: int) -> None:
    """The initializer of each worker of an owned pool: its slot and pid, SIGTERM mark,
    watchdog; SIGINT ignored (a terminal's Ctrl-C reaches the whole process group: the
    coordinator alone decides, and lets the running trials finish)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(parent)
    with counter.get_lock():
        slot = counter.value
        counter.value += 1
    if slot < size:
        _WORKER.update(cells=cells, slot=slot)
        cells[_CELLS * slot + 3] = os.getpid()
        signal.signal(signal.SIGTERM, _on_terminate)


def can_end_tasks(executor: Any) -> bool:
    """Whether :func:`end_task` can end a task on ``executor`` (``trial_timeout`` needs it)."""
    return callable(getattr(executor, "end_task", None))


def end_task(executor: Any, task: Task) -> bool:
    """End the process running ``task`` on ``executor``: the hook of ``trial_timeout``.

    The contract of an executor (or executor adapter) that can end tasks: a
    method ``end_task(task) -> bool`` ends the process running ``task`` (the
    runner has already recorded the fold FAILED: timeout, so the task must not
    record anything afterwards: a late ``FOLD_FINISHED`` is refused as a
    duplicate anyway) and returns False when no worker runs it (not started yet,
    or already done). The future of an ended task must settle (with an error or
    cancelled), and the executor must run the tasks submitted afterwards; any
    other task it had to end along the way (a broken process pool) settles with
    an error too and is run again by the runner. An optional ``task_started(task)
    -> float | None`` says when the task started on its worker, in this process'
    :func:`time.monotonic` seconds (None: not yet); without it the timeout counts
    from the submission. :class:`WorkerPool` implements both.
    """
    ender = getattr(executor, "end_task", None)
    return bool(ender(task)) if callable(ender) else False


def task_started(executor: Any, task: Task, submitted: float) -> float | None:
    """When ``task`` started (:func:`time.monotonic`): from the executor's ``task_started``
    when it has one (None: not started yet), else ``submitted``."""
    started = getattr(executor, "task_started", None)
    return started(task) if callable(started) else submitted


def end_all(executor: Any) -> None:
    """End every task running on ``executor`` now (a second Ctrl-C), when it can."""
    ender = getattr(executor, "end_all", None)
    if callable(ender):
        ender()
