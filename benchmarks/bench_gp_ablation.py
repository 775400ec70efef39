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

``catcont6`` and the noisy Hartmann function at small budgets (``--problems
catcont6,hartmann6_noisy --budgets 25,50 --methods gp-torus,gp-alt,...``):

- ``gp-torus``: the design before this study (wrap-around maximin over 256 candidates);
- ``gp-maxpro32`` / ``gp-maxpro`` / ``gp-maxpro128``: the maximum projection step over
  32 / 256 / 128 candidates on every space, a shared category counting as a distance of
  ``1 / k``; ``gp-maxpro32-s01``: over 32, as ``0.01 / k``. The default ("auto") takes
  ``gp-maxpro32-s01``'s step on spaces with both unordered categorical and continuous
  columns, ``gp-torus``'s on the others;
- ``gp-design2`` / ``gp-design32``: wrap-around maximin over 2 / 32 candidates;
  ``gp-design1-init8``, ``gp-design4-init10``: with a design of at least 8 / 10 points;
- ``gp-init10``: a design of at least 10 points (GPSampler's start-up size);
- ``gp-alt``: the acquisition search alternates continuous polish and one-column
  moves up to 5 rounds (GPSampler's local search); ``gp-s10`` / ``gp-alt-s10``: 10 starts;
- ``gp-incobs``: EI's incumbent is the best observed target, not the best posterior mean;
- ``gp-cosh``, ``gp-cosh-gamma``: GPSampler's priors with the torus design;
  ``gp-lmin10``: lengthscales bounded below by 0.1 (not 0.02);
- ``gp-optuna``: all of GPSampler's choices above at once; ``gp-optuna-model``,
  ``gp-optuna-search``, ``gp-optuna-design``: its priors and incumbent, its acquisition
  search, its start-up (10 uniformly random points).

GPSampler's priors on top of the default ("auto") design, for ``hartmann6_noisy`` at 25:

- ``gp-auto-cosh-gamma``, ``gp-auto-cosh``: its lengthscale prior with (or without) its
  noise prior, at every ``n``;
- ``gp-small25`` / ``gp-small35``: both, only while there are at most 25 / 35 observations
  (``_model.SMALL_N_PRIORS``), the default priors after; ``gp-small25-noise``: only the
  noise prior, while there are at most 25 observations.

Is the noisy Hartmann row at 25 the noise estimate or the lengthscales? (``--problems
hartmann6_noisy --budgets 25 --seeds 20``):

- ``gp-small25-ls``: GPSampler's lengthscale prior alone, up to 25 observations;
  ``gp-small25-c05`` / ``-c02``: both of its priors, the lengthscale one at a half / a
  fifth of its strength (``_model.COSH_C``);
- ``gp-noise1e-2``: the noise prior's median 1e-2 (not 1e-3); ``gp-noise-sd1``: its
  standard deviation 1 (not 3, ``_model.NOISE_SD``); ``gp-noise018-sd1`` /
  ``gp-noise05-sd1``: median ``exp(-4)`` (about 0.018) / 0.05 and standard deviation 1;
- ``gp-noise-oracle``: the noise pinned near its true value (median 0.15 of the
  standardised variance, standard deviation 0.3); ``gp-noise-oracle-lmin10``: also
  lengthscales of at least 0.1;
- ``gp-lmed1``: the lengthscale prior's median 1 (not 0.5);
- ``gp-optuna-design-auto``: GPSampler's start-up (10 uniformly random points).

Rastrigin (issue 10's last BEHIND row; ``--problems rastrigin4 --budgets 25,50,100
--first-seed 20 --seeds 40 --reference gp-noise1e-3``). The variants above keep the noise
prior's median of their time, 1e-3 (the default):

- ``gp-noise1e-3``: the default, pinned; ``gp-noise-floor``: the noise prior's median at
  the noise floor, 1e-6 (standard deviation 3, as the default's);
- ``gp-noise-pinned``: the noise held at its floor (median 1e-6, standard deviation 1:
  Optuna GPSampler's ``deterministic_objective``); ``gp-noise-pinned-lmax1``: and
  lengthscales of at most 1.09 (SMAC3's bound; ``_model.LENGTHSCALE_MAX``, 20 by default);
  ``gp-noise1e-3-lmax1`` / ``-lmax2``: the bound alone, at 1.09 / 2;
- ``gp-horseshoe`` / ``gp-gamma``: SMAC3's horseshoe (scale 0.1) / GPSampler's Gamma(1.1,
  30) noise prior; ``gp-smac-model``: SMAC3's model (horseshoe noise, lengthscales in
  [0.001, 1.09] without a prior);
- ``gp-noise1e-3-init10`` / ``gp-noise1e-3-roulette``: a design of at least 10 points / the
  roulette starts.

These variants were measured before the noise-free fits and pin them off. The default now
fits the noise level on odd asks and holds it at its floor on even ones (the number of
observations decides; ``_optimizer.NOISE_FREE_EVERY``):

- ``gp-fitted-noise``: every ask fits the noise level (the default before);
- ``gp-noise-free-every2``: the default, pinned; ``gp-noise-free-every3``: every third ask.

``--load F`` prints the tables and p-values of runs saved with ``--json F``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from typing import Any

import numpy as np
from scipy import stats

from benchmarks import bench_sample_efficiency as bench
from benchmarks._peers import RUNNERS_ALL
from benchmarks._problems import Problem, run_gp, run_hpstudy
from benchmarks._suite import SUITE
from hpstudy.optimizers.gp import GPOptimizer

_ENUM = {"_acquisition.EXHAUSTIVE_MAX": 20_000}
_BOX = {"_optimizer.DESIGN_DISTANCE": "box"}
_GAMMA = {"_model.NOISE_PRIOR": "gamma"}
_ROULETTE = {"_acquisition.START_RULE": "roulette"}
#: The design before the catcont6 study (the catcont6 variants below were measured with it).
_TORUS = {"_optimizer.DESIGN_DISTANCE": "torus"}
#: The maximum projection step as first measured: a shared category counts as distance 1 / k.
_SHARED1 = {"_optimizer.MAXPRO_SHARED": 1.0}
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
    "gp-roulette": {**_TORUS, **_ROULETTE},
    "gp-nolocal": {**_TORUS, "_acquisition.LOCAL_SHARE": 0.0},
    # catcont6 and the noisy Hartmann at small budgets
    "gp-alt": {**_TORUS, "_acquisition.ALTERNATE": 5},
    "gp-alt-s10": {**_TORUS, "_acquisition.ALTERNATE": 5, "init.n_starts": 10},
    "gp-s10": {**_TORUS, "init.n_starts": 10},
    "gp-init10": {**_TORUS, "_optimizer.INITIAL_MIN": 10},
    "gp-incobs": {**_TORUS, "_optimizer.INCUMBENT": "observed"},
    "gp-cosh": {**_TORUS, "_model.LENGTHSCALE_PRIOR": "cosh"},
    "gp-cosh-gamma": {**_TORUS, "_model.LENGTHSCALE_PRIOR": "cosh", **_GAMMA},
    "gp-lmin10": {**_TORUS, "_model.LENGTHSCALE_MIN": 0.1},
    "gp-optuna": {**_TORUS, "_model.LENGTHSCALE_PRIOR": "cosh", **_GAMMA, "_optimizer.INCUMBENT": "observed",
                  "_acquisition.ALTERNATE": 5, "init.n_starts": 10, "_optimizer.INITIAL_MIN": 10,
                  "_optimizer.DESIGN_CANDIDATES": 1, "_acquisition.START_RULE": "roulette",
                  "_acquisition.LOCAL_SHARE": 0.0},
    "gp-optuna-model": {**_TORUS, "_model.LENGTHSCALE_PRIOR": "cosh", **_GAMMA,
                        "_optimizer.INCUMBENT": "observed"},
    "gp-optuna-search": {**_TORUS, "_acquisition.ALTERNATE": 5, "init.n_starts": 10,
                         "_acquisition.START_RULE": "roulette", "_acquisition.LOCAL_SHARE": 0.0},
    "gp-optuna-design": {**_TORUS, "_optimizer.INITIAL_MIN": 10, "_optimizer.DESIGN_CANDIDATES": 1},
    "gp-design4-init10": {**_TORUS, "_optimizer.INITIAL_MIN": 10, "_optimizer.DESIGN_CANDIDATES": 4},
    "gp-design1-init8": {**_TORUS, "_optimizer.INITIAL_MIN": 8, "_optimizer.DESIGN_CANDIDATES": 1},
    "gp-design2": {**_TORUS, "_optimizer.DESIGN_CANDIDATES": 2},
    "gp-maxpro": {**_SHARED1, "_optimizer.DESIGN_DISTANCE": "maxpro"},
    "gp-maxpro32": {**_SHARED1, "_optimizer.DESIGN_DISTANCE": "maxpro",
                    "_optimizer.DESIGN_CANDIDATES": 32},
    "gp-maxpro128": {**_SHARED1, "_optimizer.DESIGN_DISTANCE": "maxpro",
                     "_optimizer.DESIGN_CANDIDATES": 128},
    "gp-design32": {**_TORUS, "_optimizer.DESIGN_CANDIDATES": 32},
    "gp-maxpro32-s01": {"_optimizer.DESIGN_DISTANCE": "maxpro", "_optimizer.DESIGN_CANDIDATES": 32,
                        "_optimizer.MAXPRO_SHARED": 0.01},
    # GPSampler's priors on top of the default ("auto") design
    "gp-auto-cosh-gamma": {"_model.LENGTHSCALE_PRIOR": "cosh", **_GAMMA},
    "gp-auto-cosh": {"_model.LENGTHSCALE_PRIOR": "cosh"},
    # the same priors only while there are at most 25 / 35 observations
    "gp-small25": {"_model.SMALL_N_PRIORS": 25},
    "gp-small35": {"_model.SMALL_N_PRIORS": 35},
    "gp-small25-noise": {"_model.SMALL_N_PRIORS": 25, "_model.SMALL_N_KINDS": frozenset({"noise"})},
    # the noisy Hartmann function at 25: is it the noise estimate or the lengthscales?
    "gp-small25-ls": {"_model.SMALL_N_PRIORS": 25,
                      "_model.SMALL_N_KINDS": frozenset({"lengthscale"})},
    "gp-small25-c05": {"_model.SMALL_N_PRIORS": 25, "_model.COSH_C": 0.05},
    "gp-small25-c02": {"_model.SMALL_N_PRIORS": 25, "_model.COSH_C": 0.02},
    "gp-noise1e-2": {"_model.NOISE_MEDIAN": 1e-2},
    "gp-noise-sd1": {"_model.NOISE_SD": 1.0},
    "gp-noise018-sd1": {"_model.NOISE_MEDIAN": math.exp(-4.0), "_model.NOISE_SD": 1.0},
    "gp-noise05-sd1": {"_model.NOISE_MEDIAN": 0.05, "_model.NOISE_SD": 1.0},
    "gp-noise-oracle": {"_model.NOISE_MEDIAN": 0.15, "_model.NOISE_SD": 0.3},
    "gp-noise-oracle-lmin10": {"_model.NOISE_MEDIAN": 0.15, "_model.NOISE_SD": 0.3,
                               "_model.LENGTHSCALE_MIN": 0.1},
    "gp-lmed1": {"_model.LENGTHSCALE_MEDIAN": 1.0},
    "gp-optuna-design-auto": {"_optimizer.INITIAL_MIN": 10, "_optimizer.DESIGN_CANDIDATES": 1},
}
#: Every variant above was measured with the noise prior's median at 1e-3 (the default)
#: and before the noise-free fits: it pins both, so that its figures in docs/gp.rst
#: reproduce whatever the default becomes.
_FITTED = {"_optimizer.NOISE_FREE_EVERY": 0}
VARIANTS = {name: {"_model.NOISE_MEDIAN": 1e-3, **_FITTED, **s}
            for name, s in VARIANTS.items()}
_PINNED = {"_model.NOISE_MEDIAN": 1e-6, "_model.NOISE_SD": 1.0}
_LMAX1 = {"_model.LENGTHSCALE_MAX": 1.09}
_RASTRIGIN_STUDY = {
    # the Rastrigin study (issue 10): the noise prior and the lengthscales' upper bound
    "gp-noise1e-3": {"_model.NOISE_MEDIAN": 1e-3},
    "gp-noise-floor": {"_model.NOISE_MEDIAN": 1e-6},
    "gp-noise-pinned": _PINNED,
    "gp-noise-pinned-lmax1": {**_PINNED, **_LMAX1},
    "gp-noise1e-3-lmax1": {"_model.NOISE_MEDIAN": 1e-3, **_LMAX1},
    "gp-noise1e-3-lmax2": {"_model.NOISE_MEDIAN": 1e-3, "_model.LENGTHSCALE_MAX": 2.0},
    "gp-horseshoe": {"_model.NOISE_PRIOR": "horseshoe"},
    "gp-gamma": {"_model.NOISE_PRIOR": "gamma"},
    "gp-smac-model": {"_model.NOISE_PRIOR": "horseshoe", "_model.LENGTHSCALE_SD": 10.0,
                      "_model.LENGTHSCALE_MIN": 0.001, **_LMAX1},
    "gp-noise1e-3-init10": {"_model.NOISE_MEDIAN": 1e-3, "_optimizer.INITIAL_MIN": 10},
    "gp-noise1e-3-roulette": {"_model.NOISE_MEDIAN": 1e-3, **_ROULETTE},
}
# measured before the noise-free fits, too
VARIANTS.update({name: {**_FITTED, **s} for name, s in _RASTRIGIN_STUDY.items()})
VARIANTS.update({
    # the noise-free fit every k-th ask (issue 10; _optimizer.NOISE_FREE_EVERY)
    "gp-fitted-noise": _FITTED,
    "gp-noise-free-every2": {"_optimizer.NOISE_FREE_EVERY": 2},
    "gp-noise-free-every3": {"_optimizer.NOISE_FREE_EVERY": 3},
})
NAS_VARIANTS = ("gp-old", "gp-enum", "gp-ls", "gp-enum-ls")


def _variant(settings: dict[str, Any]) -> Any:
    """A runner that sets ``settings`` (every other known setting at its default) and runs gp.

    The module settings it changes are put back as they were when the run ends, however
    it ends: the runner is called in this process by ``--workers 1`` (and by the tests),
    where a setting left behind would change every GP that runs after it.
    """

    def run(problem: Problem, budget: int, seed: int) -> list[float]:
        from hpstudy.optimizers.gp import _acquisition, _model, _optimizer

        modules = {"_acquisition": _acquisition, "_model": _model, "_optimizer": _optimizer}
        keys = sorted({k for s in VARIANTS.values() for k in s if not k.startswith("init.")})
        saved = {key: getattr(modules[key.split(".")[0]], key.split(".")[1]) for key in keys}
        kwargs = {}
        try:
            for key, value in settings.items():
                mod, attr = key.split(".")
                if mod == "init":  # an argument of GPOptimizer
                    kwargs[attr] = value
                else:
                    setattr(modules[mod], attr, value)
            if kwargs:
                return run_hpstudy(problem, GPOptimizer(**kwargs), budget, seed)
            return run_gp(problem, budget, seed)
        finally:
            for key, value in saved.items():
                mod, attr = key.split(".")
                setattr(modules[mod], attr, value)

    return run


RUNNERS_ALL.update({name: _variant(s) for name, s in VARIANTS.items()})
RUNNERS_ALL["gp"] = _variant({})


def pairwise(path: str, reference: str, rst: bool = False) -> None:
    """Print each method's p-values against ``reference`` in both directions.

    ``path`` is a ``--json`` file, or several joined by commas, read as the sample
    efficiency benchmark reads them (:func:`benchmarks.bench_sample_efficiency.load_runs`:
    seeds merged, each budget from the shortest runs that reached it). With ``rst``, also
    an RST list-table: one row per problem, the medians at each budget and the p-values
    of "lower" and "higher" regret than ``reference``.
    """
    budgets, store, _ = bench.load_runs(path.split(","))
    methods = sorted({m for m, _ in store} - {reference})
    problems = [p for p in SUITE if any(q == p for _, q in store)]
    print(f"\nagainst {reference}: p(better) / p(worse), one-sided Mann-Whitney")
    table: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    for problem in problems:
        opt = SUITE[problem].optimum
        for b in budgets:
            def regs(m: str, b: int = b, opt: float = opt, problem: str = problem
                     ) -> np.ndarray | None:
                runs = bench.runs_at(list(store.get((m, problem), {}).values()), b)
                return None if runs is None else np.array(
                    [bench.regret(v, t, b, opt) for v, t in runs.values()])
            ref = regs(reference)
            if ref is None:
                continue
            table.setdefault(problem, {}).setdefault(reference, []).append(
                (float(np.median(ref)), 1.0, 1.0))
            cells = []
            for m in methods:
                r = regs(m)
                if r is None:
                    continue
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
    ap.add_argument("--load", default=None)
    known, argv = ap.parse_known_args(argv)
    methods = known.methods.split(",")
    argv += ["--methods", known.methods]
    if not any(a.startswith("--problems") for a in argv) and "--quick" not in argv:
        argv += ["--problems", "nas201_cifar100,nas201_imagenet"]
    if "--quick" in argv and not any(a.startswith("--problems") for a in argv):
        argv += ["--problems", "nas201_cifar100"]
    with tempfile.TemporaryDirectory() as tmp:
        if known.load:  # print the tables of saved runs, run nothing
            path = known.load
            rc = bench.main([*argv, "--load", known.load])
        else:
            path = known.json or os.path.join(tmp, "ablation.json")
            rc = bench.main([*argv, "--json", path])
        reference = known.reference or ("gp" if "gp" in methods else methods[0])
        pairwise(path, reference, known.rst)
    return rc


if __name__ == "__main__":
    sys.exit(main())
