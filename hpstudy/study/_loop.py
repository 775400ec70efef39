"""The study loop: ask the optimizer, run the tasks, record everything, resume."""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import attrs
import numpy as np

from hpstudy._validation import check_int, check_real
from hpstudy.errors import ConfigError, StorageError
from hpstudy.space import SearchSpace
from hpstudy.storage import EventKind, Storage, TrialsBuilder, open_storage
from hpstudy.study import _meta as meta_mod
from hpstudy.study._execution import Task, TaskOutcome, make_executor, record_outcome, run_task
from hpstudy.trials import Goal, Trial, Trials, TrialState

__all__ = ["Study"]

Objective = Callable[[dict, Any], Any]


def trial_seed(study_seed: int, number: int) -> int:
    """The seed of trial ``number``: a pure function of the study seed and the number."""
    return int(np.random.SeedSequence([study_seed, number, 0x5EED]).generate_state(1)[0])


class Study:
    """A hyperparameter study: a search space, an optimizer, evaluation, and a durable log.

    Parameters
    ----------
    space : SearchSpace
        What to search.
    metric : str
        Name of the primary metric (the key the objective returns, or the name
        given to a plain float it returns).
    goal : {"maximize", "minimize"} or Goal
        Direction of the primary metric.
    optimizer : str or Optimizer
        ``"random"``, ``"grid"``, ``"bayes"`` (the GP), ``"skopt"``, or an object
        with an ``ask`` method (:class:`~hpstudy.optimizers.base.Optimizer`).
    stopper : Stopper, optional
        Early termination (:mod:`hpstudy.stopping`); None runs every trial to its end.
    early_terminate : dict, optional
        A W&B ``early_terminate`` mapping, used to build the stopper when none is given.
    folds : hpstudy.evaluation.Folds, optional
        The evaluation tasks of every trial (the same for all: paired comparisons).
        None runs one task per trial with ``ctx.fold = None``.
    storage : None, str or Storage
        None keeps the log in memory; a path writes an SQLite file (the way to
        make a study resumable). An existing file continues that study, and is
        refused if its space, metric, goal, seed or folds differ.
    seed : int
        The study's seed: suggestions and trial seeds derive from it.
    run_cap : int, optional
        The most trials the study may ever have (W&B's ``run_cap``).
    target : float, optional
        Stop asking for new trials once a trial reaches it (W&B's ``metric.target``).
    name : str, optional
        A name for reports.
    annotations : dict, optional
        JSON-able notes stored with a new study (the CLI keeps the objective's
        import path and the planned number of trials there); not compared on resume.

    Examples
    --------
    >>> import hpstudy
    >>> space = hpstudy.SearchSpace({"x": hpstudy.Real(-2.0, 2.0)})
    >>> study = hpstudy.Study(space, goal="minimize", seed=1)
    >>> trials = study.run(lambda p, ctx: (p["x"] - 0.5) ** 2, n_trials=20)
    >>> len(trials), study.best_trial.value < 0.1
    (20, True)
    """

    def __init__(self, space: SearchSpace, *, metric: str = "value", goal: str | Goal = "maximize",
                 optimizer: Any = "random", stopper: Any = None,
                 early_terminate: dict | None = None, folds: Any = None, storage: Any = None,
                 seed: int = 0, run_cap: int | None = None, target: float | None = None,
                 name: str | None = None, annotations: dict | None = None) -> None:
        if not isinstance(space, SearchSpace):
            raise ConfigError(f"space: must be a SearchSpace (got {type(space).__name__})")
        self.space = space
        self.metric = meta_mod.check_name("metric", metric)
        self.goal = meta_mod.check_goal(goal)
        self.seed = check_int("seed", seed, minimum=0)
        self.run_cap = None if run_cap is None else check_int("run_cap", run_cap, minimum=1)
        self.target = None if target is None else check_real("target", target)
        self.name = name or "study"
        self.annotations = dict(annotations or {})
        self.optimizer, optimizer_name = meta_mod.resolve_optimizer(optimizer)
        self.early_terminate = early_terminate
        self.stopper = stopper if stopper is not None else meta_mod.resolve_stopper(early_terminate)
        self.folds = folds
        self.storage: Storage = open_storage(storage)
        wanted = meta_mod.build_meta(self, optimizer_name)
        stored = self.storage.initialize(wanted)
        meta_mod.check_same_study(wanted, stored)
        self.meta = stored
        self._builder = TrialsBuilder(metric=self.metric, goal=self.goal)

    # ----------------------------------------------------------------- building
    @classmethod
    def from_sweep(cls, sweep: Any, **kwargs: Any) -> Study:
        """A study from a W&B sweep (a :class:`~hpstudy.Sweep`, a dict, or a YAML path).

        ``method``, ``metric``, ``early_terminate`` and ``run_cap`` come from the
        sweep (without a ``metric`` the objective's number is called "value" and
        maximised); keyword arguments (storage, seed, folds, ...) are passed on
        and override them.
        """
        from hpstudy.sweep import Sweep

        if isinstance(sweep, (str, os.PathLike)):
            sweep = Sweep.from_yaml(sweep)
        elif isinstance(sweep, dict):
            sweep = Sweep.from_dict(sweep)
        elif not isinstance(sweep, Sweep):
            raise ConfigError(f"sweep: must be a Sweep, a dict or a YAML path (got {type(sweep).__name__})")
        settings: dict[str, Any] = {"optimizer": sweep.method, "run_cap": sweep.run_cap,
            "early_terminate": meta_mod.early_terminate_dict(sweep.early_terminate),
        }
        if sweep.metric is not None:  # W&B requires a metric only for bayes
            settings.update(metric=sweep.metric.name, goal=sweep.metric.goal,
                            target=sweep.metric.target)
        settings.update(kwargs)
        return cls(sweep.space, **settings)

    @classmethod
    def load(cls, storage: Any, *, folds: Any = None, optimizer: Any = None,
             stopper: Any = None) -> Study:
        """Reopen a stored study (to resume it, or to read its trials).

        Parameters
        ----------
        storage : str or Storage
            The study's SQLite file (or storage object).
        folds : hpstudy.evaluation.Folds, optional
            Required when the study was run on folds: the same folds (checked
            by fingerprint).
        optimizer, stopper : optional
            Required when the study used objects hpstudy cannot rebuild by name.
        """
        store = open_storage(storage)
        if not hasattr(store, "load_meta"):
            raise ConfigError("storage: Study.load needs a stored study (a file path)")
        meta = store.load_meta()
        return cls(**meta_mod.settings_from_meta(meta, folds=folds, optimizer=optimizer,
                                                 stopper=stopper), storage=store)

    # ----------------------------------------------------------------- reading
    @property
    def trials(self) -> Trials:
        """Every trial so far, read from storage."""
        return self._sync().trials()

    def _sync(self) -> TrialsBuilder:
        """The replay, brought up to date with the storage's new events."""
        self._builder.apply(self.storage.read(self._builder.last_id))
        return self._builder

    @property
    def best_trial(self) -> Trial | None:
        """The best COMPLETE trial, or None."""
        return self.trials.best()

    # ----------------------------------------------------------------- running
    def run(self, objective: Objective, n_trials: int | None = None, *, n_jobs: int = 1,
            timeout: float | None = None, executor: cf.Executor | None = None,
            progress: bool | None = None) -> Trials:
        """Run trials until the budget, the run cap, the target or the optimizer ends.

        Trials left RUNNING by a crash are run again first, with their parameters
        (only their unfinished folds); they do not count as new trials. Only one
        process may run a given study at a time (workers excepted): a second
        coordinator would take the first one's running trials for crashed ones.

        Parameters
        ----------
        objective : callable
            ``objective(params, ctx)`` returning a float or a dict of floats.
        n_trials : int, optional
            How many new trials to start in this call (None: until run_cap,
            target, timeout or an exhausted optimizer ends the study).
        n_jobs : int
            Parallel workers; more than 1 starts a process pool (objectives must
            be importable and the storage a file).
        timeout : float, optional
            Seconds after which no new trial is started.
        executor : concurrent.futures.Executor, optional
            Run tasks on this executor (e.g. a Dask client's) instead.
        progress : bool, optional
            Show a progress bar; None shows it only on a terminal.

        Returns
        -------
        Trials
            Every trial of the study.
        """
        if not callable(objective):
            raise ConfigError(f"objective: must be callable (got {type(objective).__name__})")
        if n_trials is not None:
            n_trials = check_int("n_trials", n_trials, minimum=0)
        if timeout is not None:
            timeout = check_real("timeout", timeout, minimum=0.0)
        make_executor(n_jobs if executor is None else 1)  # validates n_jobs
        if (n_jobs > 1 or executor is not None) and not getattr(self.storage, "shareable", False):
            raise ConfigError("storage: parallel runs need a storage shared by processes "
                              "(pass a file path, e.g. storage='study.db')")
        if n_jobs > 1 or executor is not None:
            meta_mod.check_picklable("objective", objective)
            meta_mod.check_picklable("stopper", self.stopper)
        runner = _Runner(self, objective, n_jobs, executor, n_trials, timeout, progress)
        try:
            runner.loop()
        finally:
            runner.close()
        return self.trials

    def __repr__(self) -> str:
        return (f"Study(name={self.name!r}, metric={self.metric!r}, goal={self.goal.value}, "
                f"{len(self.trials)} trials, storage={self.storage!r})")


class _Runner:
    """One call of :meth:`Study.run`: the scheduling loop and its bookkeeping."""

    def __init__(self, study: Study, objective: Objective, n_jobs: int,
                 executor: cf.Executor | None, n_trials: int | None, timeout: float | None,
                 progress: bool | None) -> None:
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
                            params=trial.params, objective_params=s.space.nest(trial.params),
                            fold=fold, seed=seed, stopper=s.stopper, metric=s.metric, goal=s.goal))
        return out

    def recover(self) -> None:
        """Requeue the unfinished folds of trials a crash left RUNNING."""
        for trial in self.study.trials.running:
            self.study.storage.append(EventKind.TRIAL_RESTARTED, trial.number, {})
            tasks = self.tasks_for(trial)
            if tasks:
                self.queue.extend(tasks)
            else:
                self.finish(trial.number)

    def may_create(self) -> bool:
        s = self.study
        if self.exhausted or (self.n_trials is not None and self.created >= self.n_trials):
            return False
        if s.run_cap is not None and len(s._sync()) >= s.run_cap:
            return False
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return False
        if s.target is not None:
            best = s.trials.best()
            if best is not None and not s.goal.better(s.target, best.value):
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
            self.queue.extend(self.tasks_for(s._sync().trial(number)))
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
        except Exception as exc:  # the worker itself died (killed, out of memory)
            outcome = TaskOutcome(number=task.number, fold=task.fold_index, state=TrialState.FAILED,
                                  metrics={}, error=f"worker died: {type(exc).__name__}: {exc}",
                                  duration=0.0)
            try:
                record_outcome(task, outcome)
            except StorageError:  # the worker recorded its result before dying: trust the log
                recorded = {f.fold: f for f in self.study._sync().trial(task.number).folds}
                outcome = attrs.evolve(outcome, state=recorded[task.fold_index].state)
            if isinstance(exc, BrokenProcessPool):
                if not self.owned:
                    raise
                self.broken = True
        if outcome.number in self.finished:
            return
        if outcome.state is not TrialState.COMPLETE:
            self.finish(outcome.number)
            return
        trial = self.study._sync().trial(outcome.number)
        if len(trial.folds) >= len(self.folds):
            self.finish(outcome.number)

    def finish(self, number: int) -> None:
        """Append the trial's final state, computed from its folds."""
        trial = self.study._sync().trial(number)
        state, value, metrics, error = meta_mod.summarize_folds(trial, self.study.metric)
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
