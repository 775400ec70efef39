"""Drivers for the strongest peers: Optuna GPSampler and multivariate TPE, SMAC3, HEBO.

Each driver has the signature of :data:`benchmarks._problems.RUNNERS`
(``problem, budget, seed -> values in evaluation order``). Peers are optional:
:func:`available` says whether a method can run here and, if not, why (the
benchmark prints the reason and leaves the method out). ``make bench`` installs
them (the ``peers`` extra: torch for GPSampler, smac).

HEBO pins old numpy/pandas/matplotlib releases, so it runs in a virtual
environment of its own: point ``HPSTUDY_HEBO_PYTHON`` at that environment's
python (``benchmarks/_hebo_worker.py`` talks to it over pipes, one JSON line a
message); without it HEBO is reported unavailable.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import pickle
import subprocess
import sys
from typing import Any

from benchmarks._problems import RUNNERS, Problem, _optuna_params


def _optuna_run(problem: Problem, budget: int, sampler: Any) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=sampler)
    values = []
    for _ in range(budget):
        t = study.ask()
        v = problem.f(_optuna_params(t, problem.space))
        study.tell(t, v)
        values.append(v)
    return values


def run_gpsampler(problem: Problem, budget: int, seed: int) -> list[float]:
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _optuna_run(problem, budget, optuna.samplers.GPSampler(seed=seed))


def run_tpe_mv(problem: Problem, budget: int, seed: int) -> list[float]:
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
        return _optuna_run(problem, budget, sampler)


def _configspace(space: Any, seed: int) -> Any:
    from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer

    cs = ConfigurationSpace(seed=seed)
    for name in space.names:
        dim = space[name]
        if dim.kind == "categorical":
            values = list(dim.values)
            ordered = all(isinstance(v, (int, float)) for v in values)
            cs.add(Categorical(name, [str(v) for v in values], ordered=ordered))
        elif dim.kind == "integer":
            cs.add(Integer(name, (int(dim.low), int(dim.high)), log=dim.log))
        else:
            cs.add(Float(name, (float(dim.low), float(dim.high)), log=dim.log))
    return cs


def _from_config(space: Any, config: Any) -> dict[str, Any]:
    out = {}
    for name in space.names:
        dim, v = space[name], config[name]
        if dim.kind == "categorical":
            v = next(x for x in dim.values if str(x) == v)
        out[name] = v
    return out


def _run_smac(problem: Problem, budget: int, seed: int, facade_name: str) -> list[float]:
    """A SMAC3 run that the seed reproduces (``benchmarks/_smac_worker.py``).

    SMAC3 2.x draws from its seeded generators, but its choices also follow the order of
    Python sets of strings, which ``PYTHONHASHSEED`` fixes and which is otherwise drawn
    anew by every interpreter: the same seed gave 0.37, 0.42 and 0.49 on ``catcont6``
    at 25 evaluations in three processes (both facades, on continuous spaces too). So
    SMAC3 runs in a python of its own whose ``PYTHONHASHSEED`` is the seed.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONHASHSEED": str(seed),
           "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    first = {"space": base64.b64encode(pickle.dumps(problem.space)).decode(), "seed": seed,
             "budget": budget, "facade": facade_name}
    return _pipe_run([sys.executable, "-m", "benchmarks._smac_worker"], env, first, problem,
                     budget, f"SMAC3 ({facade_name})")


def run_smac_bb(problem: Problem, budget: int, seed: int) -> list[float]:
    return _run_smac(problem, budget, seed, "BlackBoxFacade")


def run_smac_hpo(problem: Problem, budget: int, seed: int) -> list[float]:
    return _run_smac(problem, budget, seed, "HyperparameterOptimizationFacade")


def _hebo_spec(space: Any) -> list[dict[str, Any]]:
    spec = []
    for name in space.names:
        dim = space[name]
        if dim.kind == "categorical":
            spec.append({"name": name, "type": "cat", "categories": [str(v) for v in dim.values]})
        elif dim.kind == "integer":
            kind = "pow_int" if dim.log else "int"
            spec.append({"name": name, "type": kind, "lb": int(dim.low), "ub": int(dim.high)})
        else:
            kind = "pow" if dim.log else "num"
            spec.append({"name": name, "type": kind, "lb": float(dim.low), "ub": float(dim.high)})
    return spec


def _pipe_run(argv: list[str], env: dict[str, str], first: dict[str, Any], problem: Problem,
              budget: int, who: str) -> list[float]:
    """Drive an optimiser that runs in another process, one JSON line a message: send it
    ``first``, then read a suggestion ``{name: value}`` and send back its value, ``budget``
    times (the objective is evaluated here)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**env, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    assert proc.stdin is not None and proc.stdout is not None
    values: list[float] = []
    try:
        proc.stdin.write(json.dumps(first) + "\n")
        proc.stdin.flush()
        for _ in range(budget):
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{who} exited early (exit code {proc.wait(timeout=60)})")
            raw = json.loads(line)
            params = _from_config(problem.space, {
                k: (v if problem.space[k].kind != "integer" else int(v)) for k, v in raw.items()})
            values.append(problem.f(params))
            proc.stdin.write(json.dumps(values[-1]) + "\n")
            proc.stdin.flush()
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    return values


def run_hebo(problem: Problem, budget: int, seed: int) -> list[float]:
    worker = os.path.join(os.path.dirname(__file__), "_hebo_worker.py")
    return _pipe_run([os.environ["HPSTUDY_HEBO_PYTHON"], worker], dict(os.environ),
                     {"space": _hebo_spec(problem.space), "seed": seed}, problem, budget, "HEBO")


PEERS = {"gpsampler": run_gpsampler, "tpe-mv": run_tpe_mv, "smac-bb": run_smac_bb,
         "smac-hpo": run_smac_hpo, "hebo": run_hebo}
RUNNERS_ALL = {**RUNNERS, **PEERS}


def available(method: str) -> str | None:
    """None when ``method`` can run here, else the reason it cannot."""
    needs = {"gpsampler": ("optuna", "torch"), "tpe": ("optuna",), "tpe-mv": ("optuna",),
             "skopt": ("skopt",), "smac-bb": ("smac",), "smac-hpo": ("smac",)}
    for mod in needs.get(method, ()):
        if importlib.util.find_spec(mod) is None:
            return f"{method} needs the {mod!r} package (pip install -e '.[peers]')"
    if method == "hebo":
        exe = os.environ.get("HPSTUDY_HEBO_PYTHON")
        if not exe:
            return ("hebo runs in its own virtual environment (it pins old numpy): set "
                    "HPSTUDY_HEBO_PYTHON to that environment's python")
        ok = subprocess.run([exe, "-c", "import hebo"], capture_output=True, check=False)
        if ok.returncode != 0:
            return f"hebo: {exe} cannot import hebo"
    return None


if __name__ == "__main__":  # pragma: no cover - manual check
    print({m: available(m) or "ok" for m in RUNNERS_ALL}, file=sys.stderr)
