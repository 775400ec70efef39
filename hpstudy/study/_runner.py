"""The scheduling loop of one :meth:`Study.run <hpstudy.Study.run>` call.

Ask the optimizer, queue one task per fold, keep the executor busy, record each
trial's end when its folds settle it, and, first of all, finish or requeue the
trials a crash left RUNNING (with the same rule, :func:`~hpstudy.storage.folds_settled`).
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from hpstudy.errors import DuplicateEventError, StorageError
from hpstudy.storage import EventKind, folds_settled, summarize_folds
from hpstudy.study import _meta as meta_mod
from hpstudy.study._execution import Task, TaskOutcome, make_executor, record_outcome, run_task
from hpstudy.trials import Trial, TrialState

if TYPE_CHECKING:
    from hpstudy.study._loop import Study

__all__ = ["Runner", "trial_seed"]

Objective = Callable[[dict, Any], Any]


def trial_seed(study_seed: int, number: int) -> int:
    """The seed of trial ``number``: a pure function of the study seed and the number."""
    return int(np.random.SeedSequence([study_seed, number, 0x5EED]).generate_state(1)[0])


class Runner:
    """One call of :meth:`Study.run`: the scheduling loop and its bookkeeping."""

    def __init__(self, study: Study, objective: Objective, n_jobs: int,
                 executor: cf.Executor | None, n_trials: int | None, timeout: float | None,
                 progress: bool | None) -> None:
        # n_jobs: the tasks kept in flight (the pool's size, or the given executor's width)
        self.study, self.objective, self.n_jobs = study, objective, n_jobs
        self.executor = executor
        self.pool, self.owned = make_executor(n_jobs, executor)
        self.broken = False
        self.n_trials, self.deadline = n_trials, None if timeout is None else time.monotonic() + timeout
        self.created = 0
        self.exhausted = False
        self.queue: deque[Task] = deque()
        self.in_flight: dict[cf.Future, Task] = {}
        self.finished: set[int] = set()
        self.bar = meta_mod.progress_bar(n_trials, progress)

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
                            study_id=s.study_id))
        return out

    def recover(self) -> None:
        """Finish or requeue the trials a crash left RUNNING.

        The rule of a running study applies (:func:`~hpstudy.storage.folds_settled`):
        a trial with a PRUNED or FAILED fold, or with all its folds in, is finished
        at once; any other runs its unfinished folds again.
        """
        for trial in self.study.trials.running:
            if folds_settled(trial, len(self.folds)):
                self.finish(trial.number)
                continue
            self.study.storage.append(EventKind.TRIAL_RESTARTED, trial.number, {})
            self.queue.extend(self.tasks_for(trial))

    def may_create(self) -> bool:
        s = self.study
        if self.exhausted or (self.n_trials is not None and self.created >= self.n_trials):
            return False
        if s.run_cap is not None and len(s._replay) >= s.run_cap:
            return False
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return False
        if s.target is not None:
            best = s.trials.best()
            if best is not None and best.value is not None \
                    and not s.goal.better(s.target, best.value):
                return False
        return True

    def create(self, free_slots: int) -> None:
        s = self.study
        trials = s.trials
        per_trial = len(self.folds)
        n = max(1, math.ceil(free_slots / per_trial))
        if self.n_trials is not None:
            n = min(n, self.n_trials - self.created)
        if s.run_cap is not None:
            n = min(n, s.run_cap - len(trials))
        number = len(trials)
        rng = np.random.default_rng([s.seed, number])
        suggestions = s.optimizer.ask(s.space, trials, n, rng)
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

    def loop(self) -> None:
        self.recover()
        while True:
            if self.broken and not self.in_flight:  # a worker died: start a fresh pool
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool, self.owned = make_executor(self.n_jobs, self.executor)
                self.broken = False
            while len(self.in_flight) < self.n_jobs and not self.broken:
                if not self.queue:
                    if not self.may_create():
                        break
                    self.create(self.n_jobs - len(self.in_flight))
                    if not self.queue:
                        break
                task = self.queue.popleft()
                if task.number in self.finished:
                    continue
                self.in_flight[self.pool.submit(run_task, task)] = task
            if not self.in_flight:
                return
            done, _ = cf.wait(self.in_flight, return_when=cf.FIRST_COMPLETED)
            for future in done:
                self.collect(future, self.in_flight.pop(future))

    def collect(self, future: cf.Future, task: Task) -> None:
        try:
            outcome: TaskOutcome = future.result()
        except StorageError:  # the storage failed (not the worker): stop, keep what is recorded
            raise
        except Exception as exc:  # the worker itself died (killed, out of memory)
            outcome = TaskOutcome(number=task.number, fold=task.fold_index, state=TrialState.FAILED,
                                  metrics={}, error=f"worker died: {type(exc).__name__}: {exc}",
                                  duration=0.0)
            try:
                record_outcome(task, outcome)
            except DuplicateEventError:  # the worker recorded its result before dying: trust the log
                recorded = {f.fold: f for f in self.study._replay.trial(task.number).folds}
                outcome = attrs.evolve(outcome, state=recorded[task.fold_index].state)
            if isinstance(exc, BrokenProcessPool):
                if not self.owned:
                    raise
                self.broken = True
        if outcome.number in self.finished:
            return
        if folds_settled(self.study._replay.trial(outcome.number), len(self.folds)):
            self.finish(outcome.number)

    def finish(self, number: int) -> None:
        """Append the trial's final state, computed from its folds."""
        trial = self.study._replay.trial(number)
        state, value, metrics, error = summarize_folds(trial, self.study.metric)
        self.study.storage.append(EventKind.TRIAL_FINISHED, number, {
            "state": state.value, "value": value, "metrics": metrics, "error": error})
        self.finished.add(number)
        self.queue = deque(t for t in self.queue if t.number != number)
        if self.bar is not None and not self.bar.disable:
            self.bar.update(1)
            best = self.study.trials.best()
            if best is not None:
                self.bar.set_postfix({self.study.metric: f"{best.value:.4g}"}, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.owned:
            self.pool.shutdown(wait=True, cancel_futures=True)
