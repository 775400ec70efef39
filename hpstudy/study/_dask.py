"""Running a study's tasks on a Dask cluster (``Study.run(..., client=...)``, ``--dask``).

The coordinator (this process) alone writes the study file; tasks run on Dask
workers and reach the log only through the channel of :mod:`._channel`. The
:class:`DaskRunner` is the scheduling loop of :mod:`._runner` with Dask's futures:
it keeps as many tasks in flight as the cluster has worker threads (asked again
as it goes, so workers that join are used and workers that leave are not waited
for), turns a task Dask could not run (``KilledWorker``) into a FAILED fold, runs
again a task whose future was lost (scheduler restarted), and ends a task that
runs past ``trial_timeout`` by recording it FAILED and restarting its worker.
Dask is imported here only, when a study runs on it.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
import uuid
from typing import Any

import attrs

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError, DuplicateEventError, StorageError
from hpstudy.storage import EventKind
from hpstudy.study._channel import WORKER_DIED, ChannelLost, ChannelServer
from hpstudy.study._control import timeout_error
from hpstudy.study._execution import Task, TaskOutcome, check_picklable, run_task
from hpstudy.study._runner import Runner, drive
from hpstudy.trials import TrialState

__all__ = ["DaskRunner", "run_on_dask", "run_on_worker"]

LOST_LIMIT = 5  # a task whose future is lost this often (scheduler restarts) is FAILED
WIDTH_EVERY_S = 0.5  # how often the cluster's width is asked again


def run_on_worker(payload: bytes) -> TaskOutcome:
    """What a Dask worker runs: load the task, introduce the attempt to the coordinator, run it.

    The task comes pickled (by the coordinator): a task that cannot be loaded here (its
    objective's module is not importable on this worker) fails as a task, with the
    reason, instead of failing the worker's connection to the scheduler.
    """
    import pickle

    try:
        from distributed import get_worker

        address: str | None = get_worker().address
    except (ImportError, ValueError):
        address = None
    try:
        task: Task = pickle.loads(payload)
    except Exception as exc:
        raise RuntimeError(f"cannot load the task on worker {address}: {type(exc).__name__}: "
                           f"{exc} (the objective and its module must be importable on every "
                           f"worker)") from None
    reply = task.storage.start(task.number, task.fold_index,  # type: ignore[attr-defined]
                               repeat=task.repeat, seed=task.seed, worker=address)
    if not reply["go"]:  # recorded already, or FAILED after too many worker deaths
        return TaskOutcome(number=task.number, fold=task.fold_index, state=TrialState.FAILED,
                           metrics={}, error="not run: already settled", duration=0.0)
    return run_task(task)


class DaskRunner(Runner):
    """One :meth:`Study.run` on a Dask client (see the module docstring).

    Parameters
    ----------
    n_jobs : int, optional
        The most tasks kept in flight; default: the cluster's worker threads.
    trial_timeout : float, optional
        Seconds a task may run; past it the fold is recorded FAILED (timeout) and
        its worker process ended (its nanny, Dask's default, starts a new one).
    """

    def __init__(self, study: Any, objective: Any, client: Any, *, n_jobs: int | None,
                 n_trials: int | None, timeout: float | None, progress: bool | None,
                 max_retries: int = 0, keep_artifacts: int | None = None,
                 trial_timeout: float | None = None, max_failures: int | None = None) -> None:
        self.client, self.cap, self.trial_timeout = client, n_jobs, trial_timeout
        self._width_at, self._width = 0.0, 1
        # trial_timeout is enforced here (the pool's Deadlines end processes of its own)
        super().__init__(study, objective, self.width(), client, n_trials, timeout, progress,
                         max_retries, keep_artifacts, max_failures=max_failures)
        try:
            self.server = ChannelServer(client, study, max_retries)
        except BaseException:
            self.lease.release()
            raise
        self.proxy = self.server.proxy()
        self.lost_counts: dict[tuple[int, int], int] = {}
        self.timed_out = 0

    def width(self) -> int:
        """The cluster's worker threads now (at least 1; at most ``n_jobs`` when given)."""
        now = time.monotonic()
        if now - self._width_at >= WIDTH_EVERY_S:
            try:
                self._width = max(1, sum(self.client.nthreads().values()))
            except Exception:  # the scheduler is restarting: keep the last width
                pass
            self._width_at = now
        return self._width if self.cap is None else min(self._width, self.cap)

    def submit(self, task: Task) -> None:
        key = f"hpstudy-{task.number}-{task.fold_index}-{uuid.uuid4().hex[:8]}"
        import cloudpickle  # Dask's own: functions of __main__ travel by value

        payload = cloudpickle.dumps(attrs.evolve(task, storage=self.proxy))
        future = self.client.submit(run_on_worker, payload, pure=False, key=key)
        self.in_flight[future] = task

    def loop(self) -> None:
        from distributed import wait

        self.recover()
        while True:
            self.check_lease()
            self.server.check()
            self.n_jobs = self.width()
            self.enforce_timeout()
            while len(self.in_flight) < self.n_jobs and self.stopping is None:
                task = self.next_task()
                if task is None:
                    break
                self.submit(task)
            if not self.in_flight:
                return
            try:
                done = wait(list(self.in_flight), timeout=0.5, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                continue
            except Exception:  # futures cancelled: the scheduler restarted (collect() reruns them)
                done = {f for f in self.in_flight if f.done()}
                if not done:
                    time.sleep(0.2)
                    continue
            for future in done:
                if future in self.in_flight:
                    self.collect(future, self.in_flight.pop(future))

    def collect(self, future: Any, task: Task) -> None:
        from distributed import KilledWorker

        self.server.collected(task.number, task.fold_index)
        try:
            self.outcome(future)
        except ChannelLost:  # the scheduler restarted under it: run it again
            self.lost(task)
            return
        except StorageError:  # the storage failed (not the worker): stop, keep what is recorded
            self.server.check()
            raise
        except cf.CancelledError:  # the scheduler lost it (restarted)
            self.lost(task)
            return
        except KilledWorker as exc:  # Dask's own limit of worker deaths (allowed-failures)
            self.record(task, self.failed(task, f"{WORKER_DIED}; Dask gave up on it ({exc})"))
        except Exception as exc:  # the task could not run (its objective not importable, say)
            self.record(task, self.failed(task, f"worker failed: {type(exc).__name__}: {exc}"))
        self.settle(task.number)

    @staticmethod
    def outcome(future: Any) -> Any:
        """The future's result; the future is released (a result kept on a worker that then
        dies would be computed again)."""
        try:
            return future.result()
        finally:
            future.release()

    @staticmethod
    def failed(task: Task, error: str) -> TaskOutcome:
        return TaskOutcome(number=task.number, fold=task.fold_index, state=TrialState.FAILED,
                           metrics={}, error=error, duration=0.0)

    def lost(self, task: Task) -> None:
        """Run a task again whose future was lost; FAILED after :data:`LOST_LIMIT` losses."""
        key = (task.number, task.fold_index)
        if task.number in self.finished \
                or task.fold_index in {f.fold for f in self.study._replay.trial(task.number).folds}:
            self.settle(task.number)
            return
        self.lost_counts[key] = self.lost_counts.get(key, 0) + 1
        if self.lost_counts[key] > LOST_LIMIT:
            self.record(task, self.failed(task, f"lost by the Dask scheduler {LOST_LIMIT + 1} times"))
            self.settle(task.number)
            return
        self.study.storage.append(EventKind.TRIAL_RESTARTED, task.number,
                                  {"lost": True, "fold": task.fold_index})
        self.queue.appendleft(task)

    def enforce_timeout(self) -> None:
        """Record FAILED (timeout) each task running past ``trial_timeout``, end it, restart its
        worker (the only way to stop a Python thread)."""
        if self.trial_timeout is None:
            return
        now = time.monotonic()
        for (number, fold), (since, worker) in self.server.running().items():
            if now - since <= self.trial_timeout:
                continue
            futures = [f for f, t in self.in_flight.items()
                       if t.number == number and t.fold_index == fold]
            self.server.collected(number, fold)  # its later requests are refused
            if not futures:
                continue
            task = self.in_flight.pop(futures[0])
            self.record(task, self.failed(task, timeout_error(self.trial_timeout)))
            self.timed_out += 1
            self.client.cancel(futures[0])
            if worker is not None:
                threading.Thread(target=self._restart, args=(worker,), daemon=True).start()
            self.settle(number)

    def _restart(self, worker: str) -> None:
        """End the worker's process (its nanny starts a new one): from its event loop, which
        a stuck task thread does not block. A task sent to it meanwhile runs again elsewhere,
        not counted as a worker death (:meth:`ChannelServer.ended`)."""
        import os

        self.server.ended(worker)
        try:
            self.client.run(os._exit, 70, workers=[worker])
        except Exception:  # the reply never comes: the process is gone
            pass

    def record(self, task: Task, outcome: TaskOutcome) -> None:
        try:
            super().record(task, outcome)
        except DuplicateEventError:
            pass

    def close(self) -> None:
        try:
            self.server.stop()
            if self.in_flight:
                self.client.cancel(list(self.in_flight))
        finally:
            super().close()


def run_on_dask(study: Any, objective: Any, client: Any, *, executor: Any, n_jobs: int | None,
                n_trials: int | None, timeout: float | None, progress: bool | None,
                max_retries: int, keep_artifacts: int | None,
                trial_timeout: float | None = None, max_failures: int | None = None) -> Any:
    """:meth:`Study.run` on a Dask client (its arguments already checked, but these)."""
    if executor is not None:
        raise ConfigError("client: give either client= or executor=, not both")
    if not callable(getattr(client, "submit", None)) or not callable(getattr(client, "nthreads", None)):
        raise ConfigError(f"client: must be a dask.distributed.Client (got {type(client).__name__})")
    cap = None if n_jobs is None else check_int("n_jobs", n_jobs, 1)
    check_picklable("objective", objective)
    check_picklable("stopper", study.stopper)
    runner = DaskRunner(study, objective, client, n_jobs=cap, n_trials=n_trials, timeout=timeout,
                        progress=progress, max_retries=max_retries, keep_artifacts=keep_artifacts,
                        trial_timeout=trial_timeout, max_failures=max_failures)
    drive(runner)  # loop() with graceful stops (SIGINT, SIGTERM) and max_failures
    study._warn_if_mostly_pruned()
    return study.trials
