"""SMAC3 behind a pipe, in a python of its own (see :func:`benchmarks._peers._run_smac`).

Its parent starts it with ``PYTHONHASHSEED`` set to the run's seed, which SMAC3's
choices depend on. Protocol, one JSON line a message (as ``_hebo_worker.py``): the
parent sends ``{"space": base64 pickle of the SearchSpace, "seed": s, "budget": n,
"facade": "BlackBoxFacade" or "HyperparameterOptimizationFacade"}``; then, ``n``
times, this process prints a configuration ``{name: value}`` (categorical values as
strings) and reads back its cost (minimised).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import sys
import tempfile


def main() -> int:
    import smac
    from smac.runhistory.dataclasses import TrialValue
    from threadpoolctl import threadpool_limits

    from benchmarks._peers import _configspace

    threadpool_limits(1)
    logging.getLogger("smac").setLevel(logging.ERROR)
    first = json.loads(sys.stdin.readline())
    space = pickle.loads(base64.b64decode(first["space"]))  # noqa: S301 - from our parent
    seed, budget = int(first["seed"]), int(first["budget"])
    facade = getattr(smac, first["facade"])
    with tempfile.TemporaryDirectory() as tmp:
        scenario = smac.Scenario(_configspace(space, seed), deterministic=True, n_trials=budget,
                                 seed=seed, output_directory=os.path.join(tmp, "smac"))
        opt = facade(scenario, lambda config, seed=0: 0.0, overwrite=True, logging_level=40)
        for _ in range(budget):
            info = opt.ask()
            row = {k: (v.item() if hasattr(v, "item") else v) for k, v in info.config.items()}
            print(json.dumps(row), flush=True)
            line = sys.stdin.readline()
            if not line:
                return 0
            opt.tell(info, TrialValue(cost=float(json.loads(line))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
