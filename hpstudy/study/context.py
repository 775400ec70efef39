"""What the objective receives besides its parameters: :class:`TrialContext`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from hpstudy.errors import ConfigError, TrialPruned
from hpstudy.stopping.base import ask_stopper
from hpstudy.storage import EventKind, replay_of
from hpstudy.trials import Goal, Report

if TYPE_CHECKING:
    from hpstudy.evaluation import Fold
    from hpstudy.stopping.base import Stopper
    from hpstudy.storage import Storage

__all__ = ["TrialContext"]


class TrialContext:
    """The handle an objective gets for one evaluation task of one trial.

    Attributes
    ----------
    trial_number : int
        The trial's number in the study.
    seed : int
        The seed to use for everything random in this task (weights, shuffles).
        With folds it is the fold's seed, the same for every trial (paired).
    fold : hpstudy.evaluation.Fold or None
        The train/validation indices to use, or None when the study has no folds.
    params : dict
        The trial's parameters with flat names, as stored.
    artifact_dir : pathlib.Path
        A folder for this task's files, kept with the study (see :attr:`artifact_dir`).
    study_id : str or None
        The id stored in the study's metadata (None for files of earlier versions):
        the stopper judges the trials of this study, read through the storage's replay.
    """

    def __init__(self, *, trial_number: int, seed: int, fold: Fold | None, params: dict[str, Any],
                 storage: Storage, stopper: Stopper | None, metric: str, goal: Goal,
                 study_id: str | None = None, artifacts_root: str | None = None) -> None:
        self.trial_number = trial_number
        self.seed = seed
        self.fold = fold
        self.params = params
        self._storage = storage
        self._stopper = stopper
        self._metric = metric
        self._goal = goal
        self.study_id = study_id
        self._artifacts_root = artifacts_root
        self.last_value: float | None = None
        self.pruned = False

    @property
    def artifact_dir(self) -> Path:
        """This task's folder for files worth keeping (a model, a plot), created on first use.

        ``study.db.artifacts/trial-<n>/`` (``.../fold-<k>/`` with folds) beside the study
        file; ``Study.best_artifacts()`` finds the best trials' folders again and
        ``Study.run(keep_artifacts=k)`` keeps only the ``k`` best. A study in memory has
        none: :class:`~hpstudy.ConfigError`.
        """
        from hpstudy.study._artifacts import trial_dir

        return trial_dir(self._artifacts_root, self.trial_number, self.fold_index, create=True)

    @property
    def fold_index(self) -> int | None:
        """The fold's index, or None without folds."""
        return None if self.fold is None else int(self.fold.index)

    def report(self, step: int, value: float) -> None:
        """Record an intermediate value; raise :class:`~hpstudy.TrialPruned` if told to stop.

        Parameters
        ----------
        step : int
            The objective's step (an epoch, say), >= 0.
        value : float
            The metric at that step, finite.

        Raises
        ------
        TrialPruned
            When the study's stopper decides the trial should stop. Let it
            propagate: the trial is recorded PRUNED with this value.
        ConfigError
            When ``step`` or ``value`` is not acceptable.
        """
        if isinstance(step, bool) or not isinstance(step, int) and not hasattr(step, "__index__"):
            raise ConfigError(f"step: must be an int (got {type(step).__name__})")
        step = int(step)
        if step < 0:
            raise ConfigError(f"step: must be >= 0 (got {step})")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"value: must be a number (got {type(value).__name__})") from None
        if not math.isfinite(value):
            raise ConfigError(f"value: must be finite (got {value})")
        self.last_value = value
        report = Report(step=step, value=value, fold=self.fold_index)
        self._storage.append(EventKind.REPORT, self.trial_number,
                             {"step": step, "value": value, "fold": self.fold_index})
        if self._stopper is None:
            return
        replay = replay_of(self._storage, self.study_id, metric=self._metric, goal=self._goal)
        trial, trials = replay.snapshot(self.trial_number)
        # the stopper judges this report and its fold's series, whatever other folds
        # of the trial (running in parallel) reported since
        decision = ask_stopper(self._stopper, trial, trials, report)
        if decision is None:
            return
        decision = attrs.evolve(decision, fold=self.fold_index)
        self._storage.append(EventKind.DECISION, self.trial_number, attrs.asdict(decision))
        if decision.stop:
            self.pruned = True
            raise TrialPruned(
                f"trial {self.trial_number} pruned at step {step} by {decision.rule}: "
                f"value {value:g} vs threshold {decision.threshold}"
            )

    def __repr__(self) -> str:
        return f"TrialContext(trial_number={self.trial_number}, seed={self.seed}, fold={self.fold_index})"
