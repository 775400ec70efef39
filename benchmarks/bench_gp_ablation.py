"""Ablation of the GP's choices (issue 10): acquisition search, priors, on any problems.

Run ``python -m benchmarks.bench_gp_ablation`` with the flags of
:mod:`benchmarks.bench_sample_efficiency` (``--problems``, ``--budgets``,
``--seeds``, ``--methods``, ``--workers``, ``--json``). Each variant sets module
constants of :mod:`hpstudy.optimizers.gp._acquisition`,
:mod:`hpstudy.optimizers.gp._model` or :mod:`hpstudy.optimizers.gp._optimizer`
in its worker before running (the others at their defaults); ``gp`` is
whatever the defaults are. After the usual table it prints, for each variant,
the one-sided Mann-Whitney p-values of "the variant's regret is lower than
``--reference``'s" (``better``) and "... higher" (``worse``); ``--rst`` adds
them as an RST list-table.

Acquisition search on categorical problems (the default: the two NAS-Bench-201
development tables):

- ``gp-old``: Sobol sweep, 5 starts, at most 4 greedy one-column moves (before issue 10);
- ``gp-enum``: a small all-discrete space searched exhaustively;
- ``gp-ls``: no enumeration; the 3 best observed points start local searches
  too, of up to 20 moves (Optuna GPSampler's recipe);
- ``gp-enum-ls``: both.

Multimodal continuous problems (``--methods gp-box,gp-box-gamma,...``); ``box``
variants use the initial design of before (maximin with the box's Euclidean
distance), the others the default (wrap-around distance):

- ``gp-box``: the design of before, nothing else changed;
- ``gp-torus``: the default design, pinned;
- ``...-gamma``: the noise variance's prior ``0.1 log v - 30 v`` (Optuna
  GPSampler's Gamma(1.1, 30)) instead of the lognormal one;
- ``...-cosh``: the lengthscale prior ``-0.1 (l^2 + l^-2)`` (GPSampler's shape);
- ``...-roulette``: starts of the polish drawn by a roulette on EI (GPSampler's rule);
- ``...-nolocal``: no perturbations of the best points among the candidates;
- ``gp-design1``: a uniformly random design (GPSampler's start-up);
  ``...-design4`` / ``...-design16``: maximin over 4 or 16 candidates only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Any

import numpy as np
from scipy import stats

from benchmarks import bench_sample_efficiency as bench
from benchmarks._peers import RUNNERS_ALL
from benchmarks._problems import Problem, run_gp
from benchmarks._suite import SUITE

_ENUM = {"_acquisition.EXHAUSTIVE_MAX": 20_000}
_BOX = {"_optimizer.DESIGN_DISTANCE": "box"}
_GAMMA = {"_model.NOISE_PRIOR": "gamma"}
_ROULETTE = {"_acquisition.START_RULE": "roulette"}
VARIANTS: dict[str, dict[str, Any]] = {
    # the acquisition search on categorical spaces
    "gp-old": {"_acquisition.EXHAUSTIVE_MAX": 0, "_acquisition.MAX_MOVES": 4},
    "gp-enum": {**_ENUM, "_acquisition.MAX_MOVES": 4},
    "gp-ls": {"_acquisition.EXHAUSTIVE_MAX": 0, "_acquisition.MAX_MOVES": 20,
              "_acquisition.N_BEST_STARTS": 3},
    "gp-enum-ls": {**_ENUM, "_acquisition.MAX_MOVES": 20, "_acquisition.N_BEST_STARTS": 3},
    # the initial design, priors and acquisition starts on multimodal functions
    "gp-box": _BOX,
    "gp-box-gamma": {**_BOX, **_GAMMA},
    "gp-box-cosh": {**_BOX, "_model.LENGTHSCALE_PRIOR": "cosh"},
    "gp-box-cosh-gamma": {**_BOX, **_GAMMA, "_model.LENGTHSCALE_PRIOR": "cosh"},
    "gp-box-roulette": {**_BOX, **_ROULETTE},
    "gp-box-nolocal": {**_BOX, "_acquisition.LOCAL_SHARE": 0.0},
    "gp-box-roulette-nolocal": {**_BOX, **_ROULETTE, "_acquisition.LOCAL_SHARE": 0.0},
    "gp-box-gamma-roulette": {**_BOX, **_GAMMA, **_ROULETTE},
    "gp-design1": {"_optimizer.DESIGN_CANDIDATES": 1},
    "gp-design1-gamma": {"_optimizer.DESIGN_CANDIDATES": 1, **_GAMMA},
    "gp-box-design4": {**_BOX, "_optimizer.DESIGN_CANDIDATES": 4},
    "gp-box-design4-gamma": {**_BOX, **_GAMMA, "_optimizer.DESIGN_CANDIDATES": 4},
    "gp-box-design16": {**_BOX, "_optimizer.DESIGN_CANDIDATES": 16},
    "gp-torus": {"_optimizer.DESIGN_DISTANCE": "torus"},
    "gp-torus-gamma": {"_optimizer.DESIGN_DISTANCE": "torus", **_GAMMA},
    "gp-roulette": _ROULETTE,
    "gp-nolocal": {"_acquisition.LOCAL_SHARE": 0.0},
}
NAS_VARIANTS = ("gp-old", "gp-enum", "gp-ls", "gp-enum-ls")


_DEFAULTS: dict[str, Any] = {}


def _variant(settings: dict[str, Any]) -> Any:
    """A runner that sets ``settings`` (every other known setting at its default) and runs gp."""

    def run(problem: Problem, budget: int, seed: int) -> list[float]:
        from hpstudy.optimizers.gp import _acquisition, _model, _optimizer

        modules = {"_acquisition": _acquisition, "_model": _model, "_optimizer": _optimizer}
        keys = {k for s in VARIANTS.values() for k in s}
        for key in sorted(keys):  # workers are reused: undo the previous variant first
            mod, attr = key.split(".")
            _DEFAULTS.setdefault(key, getattr(modules[mod], attr))
            setattr(modules[mod], attr, _DEFAULTS[key])
        for key, value in settings.items():
            mod, attr = key.split(".")
            setattr(modules[mod], attr, value)
        return run_gp(problem, budget, seed)

    return run


RUNNERS_ALL.update({name: _variant(s) for name, s in VARIANTS.items()})
RUNNERS_ALL["gp"] = _variant({})


def pairwise(path: str, reference: str, rst: bool = False) -> None:
    """Print each method's p-values against ``reference`` in both directions.

    With ``rst``, also an RST list-table: one row per problem, the medians at each
    budget and the p-values of "lower" and "higher" regret than ``reference``.
    """
    with open(path) as fh:
        raw = json.load(fh)
    budgets, values = raw["budgets"], raw["values"]
    methods = sorted({k.split("/")[0] for k in values} - {reference})
    problems = [p for p in SUITE if any(k.endswith("/" + p) for k in values)]
    print(f"\nagainst {reference}: p(better) / p(worse), one-sided Mann-Whitney")
    table: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    for problem in problems:
        opt = SUITE[problem].optimum
        for b in budgets:
            def regs(m: str, b: int = b, opt: float = opt, problem: str = problem) -> np.ndarray:
                return np.array([bench.regret(v, t, b, opt)
                                 for v, t in values[f"{m}/{problem}"].values()])
            ref = regs(reference)
            table.setdefault(problem, {}).setdefault(reference, []).append(
                (float(np.median(ref)), 1.0, 1.0))
            cells = []
            for m in methods:
                if f"{m}/{problem}" not in values:
                    continue
                r = regs(m)
                better = float(stats.mannwhitneyu(r, ref, alternative="less").pvalue)
                worse = float(stats.mannwhitneyu(r, ref, alternative="greater").pvalue)
                table[problem].setdefault(m, []).append((float(np.median(r)), better, worse))
                cells.append(f"{m} {np.median(r):.3g} ({better:.2f}/{worse:.2f})")
            print(f"{problem:<18} {b:>4} {reference} {np.median(ref):.3g}: " + "; ".join(cells))
    if rst:
        print()
        print(_rst(table, budgets, reference, methods))


def _p(p: float) -> str:
    return "<0.01" if p < 0.005 else f"{p:.2f}"


def _rst(table: dict, budgets: list[int], reference: str, methods: list[str]) -> str:
    def join(xs: list[str]) -> str:
        return " / ".join(xs)

    out = [".. list-table::", "   :header-rows: 1", "", "   * - problem", "     - budget",
           f"     - {reference}"]
    for m in methods:
        out += [f"     - {m}", "     - p lower", "     - p higher"]
    for problem, cols in table.items():
        out += [f"   * - {problem}", f"     - {join([str(b) for b in budgets])}",
                f"     - {join([bench._fmt(c[0]) for c in cols[reference]])}"]
        for m in methods:
            c = cols.get(m, [])
            out += [f"     - {join([bench._fmt(x[0]) for x in c])}",
                    f"     - {join([_p(x[1]) for x in c])}",
                    f"     - {join([_p(x[2]) for x in c])}"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--reference", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--methods", default=",".join(NAS_VARIANTS))
    ap.add_argument("--rst", action="store_true")
    known, argv = ap.parse_known_args(argv)
    methods = known.methods.split(",")
    argv += ["--methods", known.methods]
    if not any(a.startswith("--problems") for a in argv) and "--quick" not in argv:
        argv += ["--problems", "nas201_cifar100,nas201_imagenet"]
    if "--quick" in argv and not any(a.startswith("--problems") for a in argv):
        argv += ["--problems", "nas201_cifar100"]
    with tempfile.TemporaryDirectory() as tmp:
        path = known.json or os.path.join(tmp, "ablation.json")
        rc = bench.main([*argv, "--json", path])
        reference = known.reference or ("gp" if "gp" in methods else methods[0])
        pairwise(path, reference, known.rst)
    return rc


if __name__ == "__main__":
    sys.exit(main())
