"""The study: its settings, its stored metadata and its trials; :meth:`Study.run` drives
the scheduling loop of :mod:`hpstudy.study._runner`."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpstudy._validation import check_int, check_real
from hpstudy.errors import ConfigError
from hpstudy.space import SearchSpace
from hpstudy.storage import Replay, Storage, open_storage, replay_of
from hpstudy.study import _meta as meta_mod
from hpstudy.study._control import check_controls
from hpstudy.study._execution import plan_parallelism
from hpstudy.study._runner import Runner, drive
from hpstudy.trials import Goal, Trial, Trials, TrialState

__all__ = ["Study"]

Objective = Callable[[dict, Any], Any]


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
        It is part of the stored study, as the space is: a built-in stopper by its
        settings, any other by its class path (pass it again to resume the study).
    early_terminate : dict, optional
        A W&B ``early_terminate`` mapping, used to build the stopper when none is given.
    folds : hpstudy.evaluation.Folds, optional
        The evaluation tasks of every trial (the same for all: paired comparisons).
        None runs one task per trial with ``ctx.fold = None``.
    storage : None, str or Storage
        None keeps the log in memory; a path writes an SQLite file (the way to
        make a study resumable). An existing file continues that study, and is
        refused if its space, metric, goal, seed, folds or stopper differ.
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

    Attributes
    ----------
    trial_timeout, max_failures : optional
        The defaults of :meth:`run`'s arguments of these names: None (no limit),
        or the sweep's ``trial_timeout`` and ``max_failures`` (:meth:`from_sweep`).

    Examples
    --------
    >>> import hpstudy
    >>> space = hpstudy.SearchSpace({"x": hpstudy.Real(-2.0, 2.0)})
    >>> study = hpstudy.Study(space, goal="minimize", seed=1)
    >>> trials = study.run(lambda p, ctx: (p["x"] - 0.5) ** 2, n_trials=20)
    >>> len(trials), study.best_trial.value < 0.1
    (20, True)
    """

    trial_timeout: float | None = None
    max_failures: int | None = None

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
        self.stopper = meta_mod.resolve_stopper(stopper, early_terminate)
        self.folds = folds
        meta_mod.preflight(self)  # before the storage is created: nothing half-made
        self.storage: Storage = open_storage(storage)
        wanted = meta_mod.build_meta(self, optimizer_name)
        stored = self.storage.initialize(wanted)
        meta_mod.check_same_study(wanted, stored)
        self.meta = stored
        self.study_id: str | None = stored.get("study_id")  # None in files of earlier versions
        self._replay: Replay = replay_of(self.storage, self.study_id, metric=self.metric,
                                         goal=self.goal)

    # ----------------------------------------------------------------- building
    @classmethod
    def from_sweep(cls, sweep: Any, **kwargs: Any) -> Study:
        """A study from a W&B sweep (a :class:`~hpstudy.Sweep`, a dict, or a YAML path).

        ``method``, ``metric``, ``early_terminate`` and ``run_cap`` come from the
        sweep (without a ``metric`` the objective's number is called "value" and
        maximised); keyword arguments (storage, seed, folds, ...) are passed on
        and override them. The sweep's ``trial_timeout`` and ``max_failures``
        (hpstudy extensions) become the defaults of :meth:`run`.
        """
        from hpstudy.sweep import Sweep

        if isinstance(sweep, (str, os.PathLike)):
            sweep = Sweep.from_yaml(sweep)
        elif isinstance(sweep, dict):
            sweep = Sweep.from_dict(sweep)
        elif not isinstance(sweep, Sweep):
            raise ConfigError(f"sweep: must be a Sweep, a dict or a YAML path (got {type(sweep).__name__})")
        optimizer: Any = sweep.method
        if sweep.balance is not None:  # an hpstudy extension: equal shares of a categorical
            from hpstudy.optimizers import make_optimizer

            optimizer = make_optimizer(sweep.method, balance=sweep.balance)
        settings: dict[str, Any] = {"optimizer": optimizer, "run_cap": sweep.run_cap,
            "early_terminate": meta_mod.early_terminate_dict(sweep.early_terminate),
        }
        if sweep.metric is not None:  # W&B requires a metric only for bayes
            settings.update(metric=sweep.metric.name, goal=sweep.metric.goal,
                            target=sweep.metric.target)
        controls = {key: kwargs.pop(key, getattr(sweep, key, None))
                    for key in ("trial_timeout", "max_failures")}
        settings.update(kwargs)
        study = cls(sweep.space, **settings)
        study.trial_timeout, study.max_failures = check_controls(**controls)
        return study

    @classmethod
    def load(cls, storage: Any, *, folds: Any = None, optimizer: Any = None,
             stopper: Any = None) -> Study:
        """Reopen a stored study (to resume it, or to read its trials).

        Parameters
        ----------
        storage : str or Storage
            The study's SQLite file (or storage object).
        folds : hpstudy.evaluation.Folds, optional
            The folds the study was run on (checked by fingerprint). Not needed to
            read or analyse its trials; :meth:`run` asks for them.
        optimizer, stopper : optional
            Required when the study used objects hpstudy cannot rebuild by name.
            A user-defined stopper is stored by its class only: without it the
            study can be read, and :meth:`run` asks for it.
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
        return self._replay.trials()

    @property
    def best_trial(self) -> Trial | None:
        """The best COMPLETE trial, or None."""
        return self.trials.best()

    # ----------------------------------------------------------------- running
    def run(self, objective: Objective, n_trials: int | None = None, *, n_jobs: int | None = None,
            timeout: float | None = None, executor: cf.Executor | None = None, client: Any = None,
            progress: bool | None = None, max_retries: int = 0,
            keep_artifacts: int | None = None, trial_timeout: float | None = None,
            max_failures: int | None = None) -> Trials:
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
        n_jobs : int, optional
            Parallel workers; more than 1 starts a process pool (objectives must
            be importable and the storage a file). Default 1. With ``executor``:
            how many tasks to keep in flight on it, by default the executor's own
            number of workers (``max_workers`` of a ``concurrent.futures`` pool);
            required for executors that do not tell it (Dask's).
        timeout : float, optional
            Seconds after which no new trial is started.
        executor : concurrent.futures.Executor, optional
            Run tasks on this executor instead: a process pool, a thread pool
            (useful when objectives release the GIL: numpy, TensorFlow), or a
            Dask client's ``get_executor()``. The storage must be a file.
        client : distributed.Client, optional
            Run tasks on this Dask cluster (:doc:`/cluster`): as many at once as it
            has worker threads (``n_jobs`` caps it), reports and results sent to
            this process through Dask, which alone writes the storage (workers
            need no access to the study file).
        progress : bool, optional
            Show a progress bar; None shows it only on a terminal. Without a bar,
            each finished trial is logged (logger ``hpstudy.study``, level INFO).
        keep_artifacts : int, optional
            Keep the artifact folders (``ctx.artifact_dir``) of the ``k`` best complete
            trials only: the others are deleted as trials finish. Default: keep all.
        max_retries : int
            How many times a task whose worker process died (killed, out of
            memory) is run again before its trial is recorded FAILED. The other
            tasks in flight when a worker dies are always run again.
        trial_timeout : float, optional
            Seconds one task (a trial, or one fold of it) may run from its start
            on a worker; past it the fold is recorded FAILED (``timeout: ...``)
            and its worker process killed (on hpstudy's pool the other tasks in
            flight run again). A timeout is not a crash: ``max_retries`` does not
            run it again. With ``n_jobs=1`` the trials run in a 1-worker process
            pool (the coordinator cannot kill itself); an ``executor`` that
            cannot end a task (a thread pool) is refused. Default: the sweep's
            ``trial_timeout`` (:meth:`from_sweep`), else none.
        max_failures : int, optional
            Stop once this many trials in a row (in the order they finish;
            COMPLETE or PRUNED resets the count, 0 at each call) are FAILED:
            nothing new starts, the running trials finish and are recorded, then
            :class:`~hpstudy.errors.TooManyFailuresError` names the last error.
            Default: the sweep's ``max_failures``, else none.

        Returns
        -------
        Trials
            Every trial of the study.

        Raises
        ------
        StorageError
            When the storage fails (a full disk, a lock held too long): the run
            stops; every event recorded before is kept, and running the study
            again resumes it.
        TooManyFailuresError
            After ``max_failures`` consecutive FAILED trials.
        StudyInterrupted
            A :class:`KeyboardInterrupt`, after Ctrl-C (SIGINT) or SIGTERM: the
            first starts nothing new and lets the running trials finish; a
            second interrupts them (they stay RUNNING, for the next run). The
            handlers are installed in the main thread only, over Python's
            default ones, and restored on return (see :ref:`timeouts`).
        """
        if not callable(objective):
            raise ConfigError(f"objective: must be callable (got {type(objective).__name__})")
        if n_trials is not None:
            n_trials = check_int("n_trials", n_trials, minimum=0)
        if timeout is not None:
            timeout = check_real("timeout", timeout, minimum=0.0)
        max_retries = check_int("max_retries", max_retries, minimum=0)
        if keep_artifacts is not None:
            keep_artifacts = check_int("keep_artifacts", keep_artifacts, minimum=0)
        trial_timeout, max_failures = check_controls(
            self.trial_timeout if trial_timeout is None else trial_timeout,
            self.max_failures if max_failures is None else max_failures)
        if isinstance(self.stopper, meta_mod.MissingStopper):
            raise self.stopper.error()
        if isinstance(self.folds, meta_mod.StoredFolds):
            raise self.folds.error()
        if client is not None:
            from hpstudy.study._dask import run_on_dask

            return run_on_dask(self, objective, client, executor=executor, n_jobs=n_jobs,
                               n_trials=n_trials, timeout=timeout, progress=progress,
                               max_retries=max_retries, keep_artifacts=keep_artifacts,
                               trial_timeout=trial_timeout, max_failures=max_failures)
        width = plan_parallelism(n_jobs, executor, storage=self.storage, objective=objective,
                                 stopper=self.stopper, trial_timeout=trial_timeout)
        runner = Runner(self, objective, width, executor, n_trials, timeout, progress, max_retries,
                        keep_artifacts, trial_timeout=trial_timeout, max_failures=max_failures)
        drive(runner)  # graceful stops (SIGINT, SIGTERM) and max_failures included
        self._warn_if_mostly_pruned()
        return self.trials

    def _warn_if_mostly_pruned(self) -> None:
        """Warn once (per Study object) when more than 70 % of the finished trials were pruned."""
        if self.stopper is None or getattr(self, "_pruning_warned", False):
            return
        from hpstudy.stopping import pruning_message

        message = pruning_message(self.trials)
        if message is not None:
            self._pruning_warned = True
            logging.getLogger("hpstudy.study").warning("%s", message)
            warnings.warn(message, UserWarning, stacklevel=3)

    # ----------------------------------------------------------------- artifacts
    def artifact_dir(self, number: int) -> Path | None:
        """Trial ``number``'s artifact folder (what its ``ctx.artifact_dir`` held), or None
        when it has none (nothing was written, or ``keep_artifacts`` deleted it)."""
        from hpstudy.study._artifacts import artifacts_root, trial_dir

        root = artifacts_root(self.storage)
        if root is None:
            return None
        folder = trial_dir(root, check_int("number", number, minimum=0))
        return folder if folder.is_dir() else None

    def best_artifacts(self, k: int = 1) -> list[tuple[Trial, Path]]:
        """The ``k`` best complete trials that kept artifacts, best first, with their folders
        (like KerasTuner's ``get_best_models``: load what the objective saved there)."""
        k = check_int("k", k, minimum=1)
        ranked = sorted((t for t in self.trials
                         if t.state is TrialState.COMPLETE and t.value is not None),
                        key=lambda t: -self.goal.sign * t.value)  # type: ignore[operator]
        out = []
        for t in ranked:
            folder = self.artifact_dir(t.number)
            if folder is not None:
                out.append((t, folder))
                if len(out) == k:
                    break
        return out

    # ----------------------------------------------------------------- confirm
    def confirm(self, objective: Objective, top: int = 3, *, per_model: str | None = None,
                seeds: int = 1, n_jobs: int | None = None, executor: cf.Executor | None = None,
                progress: bool | None = None) -> Study:
        """Re-evaluate the best configurations without pruning: the confirm phase.

        The ``top`` best configurations of this search (COMPLETE trials by value,
        then PRUNED ones, deeper-going first), or with ``per_model`` the ``top``
        best of each value of that parameter, run again to the end with no
        stopper, on the same folds, each split with ``seeds`` initialisation
        seeds. They are stored as a second study in the same file, linked to
        this one; calling ``confirm`` again (after a crash) resumes it.

        Parameters
        ----------
        objective : callable
            The search's objective.
        top : int, default 3
            Configurations to confirm (per model value with ``per_model``).
        per_model : str, optional
            A categorical parameter (``"model_name"``): confirm the best ``top``
            of each of its values, so that :func:`hpstudy.analyze` can compare them.
        seeds : int, default 1
            Initialisation seeds per split (:func:`~hpstudy.evaluation.with_seed_repeats`);
            seed 0 is the search's own.
        n_jobs, executor, progress :
            As for :meth:`run`.

        Returns
        -------
        Study
            The confirm phase; ``.trials`` is the balanced, unpruned design.
        """
        from hpstudy.study._confirm import run_confirm

        if not callable(objective):
            raise ConfigError(f"objective: must be callable (got {type(objective).__name__})")
        return run_confirm(self, objective, top=top, per_model=per_model, seeds=seeds,
                           n_jobs=n_jobs, executor=executor, progress=progress)

    @classmethod
    def load_confirm(cls, storage: Any, *, folds: Any = None) -> Study:
        """Reopen the confirm phase stored in the study file ``storage`` (see :meth:`confirm`).

        ``folds`` (the search's) is needed only to run it further, not to read it.
        """
        from hpstudy.study._confirm import load_confirm

        return load_confirm(cls, storage, folds=folds)

    def __repr__(self) -> str:
        return (f"Study(name={self.name!r}, metric={self.metric!r}, goal={self.goal.value}, "
                f"{len(self.trials)} trials, storage={self.storage!r})")
