"""Runs a study to N trials in its own process, so a test can SIGKILL it and resume.

Usage: python -m tests._resume_driver DB N OPTIMIZER [N_JOBS]
"""

from __future__ import annotations

import sys

import hpstudy
from tests import _objectives as obj

SPACE = hpstudy.SearchSpace({
    "x": hpstudy.Real(0.0, 1.0),
    "k": hpstudy.Integer(1, 5),
    "c": hpstudy.Categorical(["a", "b", "c"]),
})


def main(db: str, n: int, optimizer: str, n_jobs: int = 1) -> None:
    study = hpstudy.Study(SPACE, storage=db, seed=11, optimizer=optimizer,
                          early_terminate={"type": "hyperband", "min_iter": 2, "eta": 3})
    study.run(obj.slow_deterministic, n_trials=max(0, n - len(study.trials)), n_jobs=n_jobs)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 1)
