"""HEBO behind a pipe, run by the python of HEBO's own virtual environment.

Standalone on purpose (HEBO pins old numpy/pandas, so hpstudy is not imported
here). Protocol, one JSON line a message: the parent sends ``{"space": [...],
"seed": s}`` (HEBO's ``DesignSpace.parse`` format); then, repeatedly, this
process prints a suggestion ``{name: value}`` and reads back its value
(minimised) until stdin closes.
"""

from __future__ import annotations

import json
import random
import sys

import numpy as np


def main() -> int:
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO

    first = json.loads(sys.stdin.readline())
    seed = int(first["seed"])
    np.random.seed(seed)  # noqa: NPY002 - HEBO draws from the legacy global generator
    random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
        torch.set_num_threads(1)
    except ImportError:
        pass
    opt = HEBO(DesignSpace().parse(first["space"]), scramble_seed=seed)
    while True:
        rec = opt.suggest(n_suggestions=1)
        row = {k: (v.item() if hasattr(v, "item") else v) for k, v in rec.iloc[0].items()}
        print(json.dumps(row), flush=True)
        line = sys.stdin.readline()
        if not line:
            return 0
        opt.observe(rec, np.array([[float(json.loads(line))]]))


if __name__ == "__main__":
    sys.exit(main())
