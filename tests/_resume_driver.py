"""Runs a study to N trials in its own process, so a test can SIGKILL it and resume.

Usage: python -m tests._resume_driver DB N OPTIMIZER [N_JOBS]

The first run creates the study; later runs reopen it from the file alone with
``Study.load`` (as ``hpstudy resume`` does), so the stored space, its parameter
order included, is what the resumed run asks from.
"""

from __future__ import annotations

import sys

import hpstudy
from hpstudy.storage import SQLiteStorage
from tests import _objectives as obj

# names out of alphabetical order: a resume that rebuilt the space sorted would ask other points
SPACE = hpstudy.SearchSpace({
    "zeta": hpstudy.Real(0.0, 1.0),
    "kappa": hpstudy.Integer(1, 5),
    "alpha": hpstudy.Categorical(["a", "b", "c"]),
})


def main(db: str, n: int, optimizer: str, n_jobs: int = 1) -> None:
    if SQLiteStorage(db).exists():
        study = hpstudy.Study.load(db)
    else:
        study = hpstudy.Study(SPACE, storage=db, seed=11, optimizer=optimizer,
                              early_terminate={"type": "hyperband", "min_iter": 2, "eta": 3})
    study.run(obj.slow_deterministic, n_trials=max(0, n - len(study.trials)), n_jobs=n_jobs)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 1)
