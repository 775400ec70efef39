"""The scheduling loop of one :meth:`Study.run <hpstudy.Study.run>` call.

Take the study's lease (one coordinator per file), ask the optimizer, queue one
task per fold, keep the executor busy, record each trial's end when its folds
settle it, and, first of all, finish or requeue the trials a crash left RUNNING
(with the same rule, :func:`~hpstudy.storage.folds_settled`). A trial that was
running in the coordinator's own process when it died twice is FAILED: it is
what kills it. When a worker of the pool dies, only its task is blamed (failed,
or retried up to ``max_retries``); the other tasks in flight run again.

The controls of :mod:`._control`: a task past ``trial_timeout`` is recorded
FAILED, then its process ended (the executor's ``end_task`` hook); ``max_failures``
trials FAILED in a row, or a first SIGINT/SIGTERM, stop the run once the running
tasks have finished (nothing new is submitted); a second signal ends them.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import math
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import numpy as np

from hpstudy.errors import DuplicateEventError, StorageError, StudyInterrupted
from hpstudy.storage import EventKind, folds_settled, summarize_folds
from hpstudy.study import _meta as meta_mod
from hpstudy.study._artifacts import artifacts_root, keep_best
from hpstudy.study._control import Deadlines, FailureStreak, StopSignals, timeout_error
from hpstudy.study._execution import (
    Task,
    TaskOutcome,
    end_all,
    end_task,
    make_executor,
    record_outcome,
    run_task,
)
from hpstudy.study._lease import LeaseKeeper
from hpstudy.trials import Trial, TrialState

if TYPE_CHECKING:
    from hpstudy.study._loop import Study

__all__ = ["Runner", "drive", "trial_seed"]

Objective = Callable[[dict, Any], Any]
logger = logging.getLogger("hpstudy.study")
CRASHED_TWICE = "crashed the coordinator twice (killed while running it in its own process: " \
                "out of memory, os._exit, a signal); not run again"
WORKER_DIED = "worker died while running it (killed, out of memory or os._exit)"


def drive(runner: Runner) -> None:
    """Run ``runner`` (:meth:`Runner.run`) to its end, then close it; a storage failure
    stops the run with what to do next (every event recorded before it is kept)."""
    try:
        runner.run()
    except DuplicateEventError:
        raise
    except StorageError as exc:
        raise StorageError(f"{exc}; the run stopped (every event recorded before the "
                           f"failure is kept: run the study again to resume it)") from exc
    finally:
        runner.close()


def trial_seed(study_seed: int, number: int) -> int:
    """The seed of trial ``number``: a pure function of the study seed and the number."""
    return int(np.random.SeedSequence([study_seed, number, 0x5EED]).generate_state(1)[0])


class Runner:
    """One call of :meth:`Study.run`: the scheduling loop and its bookkeeping."""

    def __init__(self, study: Study, objective: Objective, n_jobs: int,
                 executor: cf.Executor | None, n_trials: int | None, timeout: float | None,
                 progress: bool | None, max_retries: int = 0,
                 keep_artifacts: int | None = None, *, trial_timeout: float | None = None,
                 max_failures: int | None = None) -> None:
        # n_jobs: the tasks kept in flight (the pool's size, or the given executor's width)
        self.study, self.objective, self.n_jobs = study, objective, n_jobs
        self.executor, self.max_retries = executor, max_retries
        self.keep_artifacts = keep_artifacts
        self.deadlines = None if trial_timeout is None else Deadlines(trial_timeout)
        self.expired: set[tuple[int, int]] = set()  # (trial, fold) ended by trial_timeout
        self.streak = None if max_failures is None else FailureStreak(max_failures)
        # why the run stops once the running tasks finish (max_failures, a first signal)
        self.stopping: BaseException | None = None
        self.lease = LeaseKeeper(study.storage, n_jobs,
                                 executor is None and n_jobs == 1 and trial_timeout is None)
        try:
            self.pool, self.owned = make_executor(n_jobs, executor, isolate=trial_timeout is not None)
        except BaseException:
            self.lease.release()
            raise
        self.broken = False
        self.orphans: list[Task] = []  # tasks in flight when a worker of the pool died
        self.attempts: dict[tuple[int, int], int] = {}  # worker deaths per (trial, fold)
        self.n_trials, self.deadline = n_trials, None if timeout is None else time.monotonic() + timeout
        self.created = 0
        self.exhausted = False
        self.queue: deque[Task] = deque()
        self.in_flight: dict[cf.Future, Task] = {}
        self.finished: set[int] = set()
        self.bar = meta_mod.progress_bar(n_trials, progress)
        self.started = time.monotonic()
        self.best: float | None = None
        best = study.trials.best() if len(study._replay) else None
        if best is not None:
            self.best = best.value

    @property
    def folds(self) -> list:
        return [None] if self.study.folds is None else list(self.study.folds)

    def tasks_for(self, trial: Trial) -> list[Task]:
        s = self.study
        done = {f.fold for f in trial.folds}
        out = []
        for fold in self.folds:
            index = 0 if fold is None else int(fold.index)
            if index in done:
                continue
            seed = trial.seed if fold is None else int(fold.seed)
            out.append(Task(objective=self.objective, storage=s.storage, number=trial.number,
                            params=dict(trial.params),
                            objective_params=s.space.nest(dict(trial.params)), fold=fold,
                            seed=seed, stopper=s.stopper, metric=s.metric, goal=s.goal,
                            study_id=s.study_id, artifacts_root=artifacts_root(s.storage)))
        return out

    def recover(self) -> None:
        """Finish or requeue the trials a crash left RUNNING.

        The rule of a running study applies (:func:`~hpstudy.storage.folds_settled`):
        a trial with a PRUNED or FAILED fold, or with all its folds in, is finished
        at once; any other runs its unfinished folds again, unless the last
        coordinator died running it in its own process for the second time: then
        it is FAILED.
        """
        replay = self.study._replay
        running = list(self.study.trials.running)
        suspect = None
        if self.lease.crashed_in_process and running:  # the trial it ran last killed it?
            suspect = max(running, key=lambda t: replay.last_event(t.number)).number
        for trial in running:
            if folds_settled(trial, len(self.folds)):
                self.finish(trial.number)
                continue
            if trial.number == suspect and replay.crashes(trial.number) >= 1:
                self.study.storage.append(EventKind.TRIAL_FINISHED, trial.number, {
                    "state": TrialState.FAILED.value, "value": None, "metrics": {},
                    "error": CRASHED_TWICE})
                self.finished.add(trial.number)
                continue
            self.study.storage.append(EventKind.TRIAL_RESTARTED, trial.number,
                                      {"crashed_in_process": True} if trial.number == suspect else {})
            self.queue.extend(self.tasks_for(trial))

    def may_create(self) -> bool:
        s = self.study
        if self.exhausted or (self.n_trials is not None and self.created >= self.n_trials):
            return False
        if s.run_cap is not None and len(s._replay) >= s.run_cap:
            return False
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return False
        if s.target is not None and self.best is not None \
                and not s.goal.better(s.target, self.best):
            return False
        return True

    def suggest(self, number: int, n: int) -> list[dict]:
        """``n`` suggestions for trials ``number``, ``number + 1``, ...

        Random search asks for each trial alone, with the generator of its number,
        seeing the batch's earlier suggestions as running trials (what a balanced
        search counts): a trial's parameters are a function of the seed and its
        number, whatever the batch (``n_jobs``). Other optimizers get one batch ask.
        """
        from hpstudy.optimizers import RandomSearch
        from hpstudy.trials import Trials

        s = self.study
        trials = s.trials
        if type(s.optimizer) is RandomSearch:
            out: list[dict] = []
            for k in range(n):
                seen = trials if not out else Trials(
                    (*trials, *(Trial(number=number + j, params=p) for j, p in enumerate(out))),
                    metric=trials.metric, goal=trials.goal)
                out.extend(s.optimizer.ask(s.space, seen, 1, np.random.default_rng([s.seed, number + k])))
            return out
        return list(s.optimizer.ask(s.space, trials, n, np.random.default_rng([s.seed, number])))

    def create(self, free_slots: int) -> None:
        s = self.study
        per_trial = len(self.folds)
        n = max(1, math.ceil(free_slots / per_trial))
        number = len(s._replay)
        if self.n_trials is not None:
            n = min(n, self.n_trials - self.created)
        if s.run_cap is not None:
            n = min(n, s.run_cap - number)
        suggestions = self.suggest(number, n)
        if not suggestions:
            self.exhausted = True
            return
        for params in suggestions[:n]:
            params = s.space.validate(params)
            seed = trial_seed(s.seed, number)
            s.storage.append(EventKind.TRIAL_CREATED, number, {"params": params, "seed": seed})
            self.queue.extend(self.tasks_for(s._replay.trial(number)))
            self.created += 1
            number += 1
        if len(suggestions) < n:
            self.exhausted = True

    def run(self) -> None:
        """:meth:`loop` with graceful stops (:class:`~hpstudy.study._control.StopSignals`);
        then raise what stopped it early: :class:`~hpstudy.errors.StudyInterrupted`,
        :class:`~hpstudy.errors.TooManyFailuresError`."""
        with StopSignals(self.request_stop):
            try:
                self.loop()
            except StudyInterrupted as exc:  # a second signal: end the running tasks now
                end_all(self.pool)
                raise StudyInterrupted(exc.signum, self.kept(), graceful=False) from None
        if isinstance(self.stopping, StudyInterrupted):
            raise StudyInterrupted(self.stopping.signum, self.kept())
        if self.stopping is not None:
            raise self.stopping

    def request_stop(self, signum: int) -> None:
        """Start no new task; the loop ends once the running ones have finished."""
        if self.stopping is None:
            self.stopping = StudyInterrupted(signum)

    def kept(self) -> int:
        """The finished trials in the study's log."""
        return sum(t.state.is_finished() for t in self.study.trials)

    def next_task(self) -> Task | None:
        """The next task to submit: the queue's first (its trial not finished), or the
        first of new trials when the queue is empty; None when there is none to start."""
        while True:
            if not self.queue:
                if not self.may_create():
                    return None
                self.create(self.n_jobs - len(self.in_flight))
                if not self.queue:
                    return None
            task = self.queue.popleft()
            if task.number not in self.finished:
                return task

    def check_lease(self) -> None:
        """Stop the run when another coordinator took over the study's lease."""
        if self.lease.lost:
            raise StorageError("another coordinator took over the study's lease; this run "
                               "stops (its events so far are kept)")

    def loop(self) -> None:
        self.recover()
        while True:
            self.check_lease()
            if self.broken and not self.in_flight:  # a worker died: blame it, start a fresh pool
                self.replace_pool()
            while len(self.in_flight) < self.n_jobs and not self.broken and self.stopping is None:
                task = self.next_task()
                if task is None:
                    break
                try:
                    future = self.pool.submit(run_task, task)
                except BrokenProcessPool:  # a worker died before we collected its future
                    if not self.owned:
                        raise
                    self.queue.appendleft(task)  # never started: run it on the new pool
                    self.broken = True
                    break
                self.in_flight[future] = task
                if self.deadlines is not None:
                    self.deadlines.add(future)
            if not self.in_flight:
                if self.broken:
                    continue
                return
            wait_s = None if self.deadlines is None else self.deadlines.wait_s(
                self.pool, self.unexpired())
            done, _ = cf.wait(self.in_flight, timeout=wait_s, return_when=cf.FIRST_COMPLETED)
            for future in done:
                if self.deadlines is not None:
                    self.deadlines.drop(future)
                self.collect(future, self.in_flight.pop(future))
            if self.deadlines is not None:
                self.expire(self.deadlines.overdue(self.pool, self.unexpired()))

    def unexpired(self) -> dict[cf.Future, Task]:
        return {f: t for f, t in self.in_flight.items()
                if (t.number, t.fold_index) not in self.expired}

    def expire(self, tasks: list[Task]) -> None:
        """Record each task FAILED (timeout), then end its process: the pool breaks, and
        :meth:`replace_pool` runs the other tasks again (a timeout is not retried)."""
        assert self.deadlines is not None
        for task in tasks:
            self.expired.add((task.number, task.fold_index))
            try:
                record_outcome(task, TaskOutcome(
                    number=task.number, fold=task.fold_index, state=TrialState.FAILED, metrics={},
                    error=timeout_error(self.deadlines.seconds), duration=self.deadlines.seconds))
            except DuplicateEventError:  # it finished just now: its result stands
                continue
            end_task(self.pool, task)
            self.settle(task.number)

    def collect(self, future: cf.Future, task: Task) -> None:
        try:
            outcome: TaskOutcome = future.result()
        except StorageError:  # the storage failed (not the worker): stop, keep what is recorded
            raise
        except BrokenProcessPool:
            if not self.owned:
                raise
            self.broken = True  # which worker died is known once the pool is down
            self.orphans.append(task)
            return
        except Exception as exc:  # the worker itself failed (its result could not come back)
            outcome = TaskOutcome(number=task.number, fold=task.fold_index, state=TrialState.FAILED,
                                  metrics={}, error=f"worker died: {type(exc).__name__}: {exc}",
                                  duration=0.0)
            self.record(task, outcome)
        self.settle(outcome.number)

    def record(self, task: Task, outcome: TaskOutcome) -> None:
        try:
            record_outcome(task, outcome)
        except DuplicateEventError:  # the worker recorded its result before dying: trust the log
            pass

    def settle(self, number: int) -> None:
        if number not in self.finished \
                and folds_settled(self.study._replay.trial(number), len(self.folds)):
            self.finish(number)

    def replace_pool(self) -> None:
        """After a worker died: fail (or retry) its task, run the others again, new pool."""
        self.pool.shutdown(wait=True, cancel_futures=True)  # every old worker has ended
        board = getattr(self.pool, "hpstudy_board", None)
        culprits = board.culprits() if board is not None else None
        orphans, self.orphans = self.orphans, []
        replay = self.study._replay
        rerun: dict[int, list[Task]] = {}
        for task in orphans:
            key = (task.number, task.fold_index)
            if task.fold_index in {f.fold for f in replay.trial(task.number).folds}:
                self.settle(task.number)  # recorded before the pool broke: keep it
                continue
            if culprits is None or key in culprits:
                self.attempts[key] = self.attempts.get(key, 0) + 1
                if self.attempts[key] > self.max_retries:
                    self.record(task, TaskOutcome(
                        number=task.number, fold=task.fold_index, state=TrialState.FAILED,
                        metrics={}, duration=0.0,
                        error=f"{WORKER_DIED}; {self.attempts[key]} attempt(s)"))
                    self.settle(task.number)
                    continue
            rerun.setdefault(task.number, []).append(task)
        for number, tasks in sorted(rerun.items(), reverse=True):
            if number in self.finished:
                continue
            # drop the killed attempt's reports and decisions; run the folds again, first
            self.study.storage.append(EventKind.TRIAL_RESTARTED, number, {"worker_died": True})
            self.queue.extendleft(reversed(tasks))
        self.pool, self.owned = make_executor(self.n_jobs, self.executor,
                                              isolate=self.deadlines is not None)
        self.broken = False

    def finish(self, number: int) -> None:
        """Append the trial's final state, computed from its folds."""
        s = self.study
        trial = s._replay.trial(number)
        state, value, metrics, error = summarize_folds(trial, s.metric)
        s.storage.append(EventKind.TRIAL_FINISHED, number, {
            "state": state.value, "value": value, "metrics": metrics, "error": error})
        self.finished.add(number)
        self.queue = deque(t for t in self.queue if t.number != number)
        if self.streak is not None:
            stop = self.streak.update(state, error)
            if stop is not None and self.stopping is None:
                self.stopping = stop
        if self.keep_artifacts is not None:
            keep_best(artifacts_root(s.storage), s.trials, self.keep_artifacts)
        if state is TrialState.COMPLETE and value is not None \
                and (self.best is None or s.goal.better(value, self.best)):
            self.best = value
        if self.bar is not None and not self.bar.disable:
            self.bar.update(1)
            if self.best is not None:
                self.bar.set_postfix({s.metric: f"{self.best:.4g}"}, refresh=False)
            if sys.stderr.isatty():
                return
        if logger.isEnabledFor(logging.INFO):
            from hpstudy.report import progress_line

            logger.info(progress_line(s._replay.trial(number), self.best,
                                      time.monotonic() - self.started, metric=s.metric))

    def close(self) -> None:
        try:
            if self.bar is not None:
                self.bar.close()
            if self.owned:
                self.pool.shutdown(wait=True, cancel_futures=True)
        finally:
            self.lease.release()
