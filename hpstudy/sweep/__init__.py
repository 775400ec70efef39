"""W&B sweep configurations: read a ``sweep.yaml`` into a search space and settings.

A user's existing W&B sweep file loads unchanged (see :doc:`/sweeps` for the
format, each distribution's exact semantics, and what a local run ignores)::

    sweep = Sweep.from_yaml("sweep.yaml")
    sweep.space, sweep.method, sweep.metric, sweep.early_terminate, sweep.run_cap

Size limits, each refused with a ConfigError naming it: a sweep file (or text)
of at most :data:`MAX_CONFIG_BYTES` (10 MB), read from a regular file only (not
a FIFO or a device); at most :data:`MAX_PARAMETERS` (10,000) parameters; at
most :data:`MAX_VALUES` (100,000) ``values`` per parameter. Parsing is linear
in the file's size.
"""

from hpstudy.space import MAX_VALUES
from hpstudy.sweep._params import MAX_PARAMETERS, SweepDeprecationWarning
from hpstudy.sweep._sweep import (
    MAX_CONFIG_BYTES,
    METHODS,
    EarlyTerminate,
    Metric,
    Sweep,
    space_from_dict,
)

__all__ = [
    "EarlyTerminate",
    "MAX_CONFIG_BYTES",
    "MAX_PARAMETERS",
    "MAX_VALUES",
    "METHODS",
    "Metric",
    "Sweep",
    "SweepDeprecationWarning",
    "space_from_dict",
]
