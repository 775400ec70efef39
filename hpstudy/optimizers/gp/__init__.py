"""Gaussian-process Bayesian optimisation with our own numpy/scipy core.

See ``docs/gp.rst`` for the model, the encoding of each kind of dimension,
the acquisition, the initial design, the treatment of failed and pruned
trials and the batch strategy.
"""

from hpstudy.optimizers.gp._optimizer import (
    GPOptimizer,
)

__all__ = [
    "GPOptimizer",
]

GPOptimizer.__module__ = __name__  # its documented home, as before the package split
