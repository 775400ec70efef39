"""Ablation of the GP's acquisition search on categorical problems (issue 10).

Run ``python -m benchmarks.bench_gp_ablation`` with the flags of
:mod:`benchmarks.bench_sample_efficiency` (``--problems``, ``--budgets``,
``--seeds``, ``--methods``); by default it compares, on the two NAS-Bench-201
development tables, GPOptimizer with:

- ``gp-old``: Sobol sweep, 5 starts, at most 4 greedy one-column moves (before issue 10);
- ``gp-enum``: a small all-discrete space searched exhaustively (the default now);
- ``gp-ls``: no enumeration; the 3 best observed points start local searches
  too, of up to 20 moves (Optuna GPSampler's recipe);
- ``gp-enum-ls``: both.

The variants set module constants of the acquisition search in each worker
before running; ``gp`` in the table is whatever the defaults are.
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks import bench_sample_efficiency as bench
from benchmarks._peers import RUNNERS_ALL
from benchmarks._problems import Problem, run_gp

VARIANTS: dict[str, dict[str, int]] = {
    "gp-old": {"EXHAUSTIVE_MAX": 0, "MAX_MOVES": 4, "N_BEST_STARTS": 0},
    "gp-enum": {"EXHAUSTIVE_MAX": 20_000, "MAX_MOVES": 4, "N_BEST_STARTS": 0},
    "gp-ls": {"EXHAUSTIVE_MAX": 0, "MAX_MOVES": 20, "N_BEST_STARTS": 3},
    "gp-enum-ls": {"EXHAUSTIVE_MAX": 20_000, "MAX_MOVES": 20, "N_BEST_STARTS": 3},
}


def _variant(settings: dict[str, int]) -> Any:
    def run(problem: Problem, budget: int, seed: int) -> list[float]:
        from hpstudy.optimizers.gp import _acquisition

        for key, value in settings.items():
            setattr(_acquisition, key, value)
        return run_gp(problem, budget, seed)

    return run


RUNNERS_ALL.update({name: _variant(s) for name, s in VARIANTS.items()})


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a.startswith("--methods") for a in argv):
        argv += ["--methods", ",".join(VARIANTS)]
    if not any(a.startswith("--problems") for a in argv) and "--quick" not in argv:
        argv += ["--problems", "nas201_cifar100,nas201_imagenet"]
    if "--quick" in argv and not any(a.startswith("--problems") for a in argv):
        argv += ["--problems", "nas201_cifar100"]
    return bench.main(argv)


if __name__ == "__main__":
    sys.exit(main())
