"""W&B sweep configurations: read a ``sweep.yaml`` into a search space and settings.

A user's existing W&B sweep file loads unchanged (see :doc:`/sweeps` for the
format, each distribution's exact semantics, and what a local run ignores)::

    sweep = Sweep.from_yaml("sweep.yaml")
    sweep.space, sweep.method, sweep.metric, sweep.early_terminate, sweep.run_cap
"""

from hpstudy.sweep._params import SweepDeprecationWarning
from hpstudy.sweep._sweep import (
    METHODS,
    EarlyTerminate,
    Metric,
    Sweep,
    space_from_dict,
)

__all__ = [
    "EarlyTerminate",
    "METHODS",
    "Metric",
    "Sweep",
    "SweepDeprecationWarning",
    "space_from_dict",
]
