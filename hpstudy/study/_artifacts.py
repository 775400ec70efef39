"""Where trials keep what they make (model files, plots), and which of them are kept.

A study stored in ``study.db`` keeps trial ``n``'s files in ``study.db.artifacts/trial-0000n/``
(one ``fold-<k>/`` folder per fold when the study runs on folds): the layout is a
function of the study file, so moving the two together keeps them linked, and
:meth:`Study.best_artifacts <hpstudy.Study.best_artifacts>` finds them again, like
KerasTuner's ``get_best_models``. ``Study.run(keep_artifacts=k)`` deletes, as trials
finish, the folders of every trial that is not among the ``k`` best complete ones.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from hpstudy.errors import ConfigError
from hpstudy.trials import Trials, TrialState

__all__ = ["artifacts_root", "keep_best", "trial_dir"]


def artifacts_root(storage: Any) -> str | None:
    """The folder of a study's artifacts: beside its file, or None for a study in memory."""
    path = getattr(storage, "path", None)
    if not isinstance(path, str) or path == ":memory:":
        return None
    return path + ".artifacts"


def trial_dir(root: str | None, number: int, fold: int | None = None, *,
              create: bool = False) -> Path:
    """The folder of trial ``number`` (and of one of its folds)."""
    if root is None:
        raise ConfigError("artifact_dir: a study kept in memory has no artifact folder; "
                          "store the study in a file (storage='study.db')")
    folder = Path(root) / f"trial-{number:05d}"
    if fold is not None:
        folder = folder / f"fold-{fold}"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep_best(root: str | None, trials: Trials, k: int) -> list[int]:
    """Delete the folders of the finished trials that are not among the ``k`` best complete
    ones (running trials are left alone); return the numbers deleted."""
    if root is None or not os.path.isdir(root):
        return []
    ranked = sorted((t for t in trials if t.state is TrialState.COMPLETE and t.value is not None),
                    key=lambda t: -trials.goal.sign * t.value)  # type: ignore[operator]
    keep = {t.number for t in ranked[:k]}
    deleted = []
    for t in trials:
        if t.state.is_finished() and t.number not in keep:
            folder = trial_dir(root, t.number)
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                deleted.append(t.number)
    return deleted
