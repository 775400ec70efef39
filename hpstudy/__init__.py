"""hpstudy: hyperparameter studies you can trust.

Search spaces and W&B sweep configs, a Gaussian-process Bayesian optimizer with
grid and random baselines, Hyperband early stopping, honest evaluation (k-fold,
grouped folds) and statistics that split a metric's variance into model,
tuning and noise.

``import hpstudy`` stays light: the names below are imported on first use
(PEP 562), so a command such as ``hpstudy status`` loads only what it needs, and
TensorFlow, Dask and scikit-optimize are imported only by the modules that need
them, when they are used. ``hpstudy.space`` and the other subpackages load on
first access too.
"""


import importlib as _importlib
import typing as _typing

from hpstudy._version import __version__
from hpstudy.errors import (
    ConfigError,
    HpstudyError,
    StorageError,
    StudyInterrupted,
    TooManyFailuresError,
    TrialPruned,
)

if _typing.TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from hpstudy.optimizers import GridSearch, RandomSearch
    from hpstudy.optimizers.gp import GPOptimizer
    from hpstudy.space import (
        Beta,
        Categorical,
        Constant,
        Integer,
        LogNormal,
        Normal,
        Real,
        SearchSpace,
    )
    from hpstudy.stats import analyze
    from hpstudy.stopping import ASHA, Hyperband, MedianStopper
    from hpstudy.study import Study
    from hpstudy.study.context import TrialContext
    from hpstudy.sweep import EarlyTerminate, Metric, Sweep
    from hpstudy.trials import FoldResult, Goal, Report, StopDecision, Trial, Trials, TrialState

#: public name -> the module it is imported from, on first use
_LAZY = {
    **dict.fromkeys(("GridSearch", "RandomSearch"), "hpstudy.optimizers"),
    "GPOptimizer": "hpstudy.optimizers.gp",
    **dict.fromkeys(("Beta", "Categorical", "Constant", "Integer", "LogNormal", "Normal", "Real",
                     "SearchSpace"), "hpstudy.space"),
    "analyze": "hpstudy.stats",
    **dict.fromkeys(("ASHA", "Hyperband", "MedianStopper"), "hpstudy.stopping"),
    "Study": "hpstudy.study",
    "TrialContext": "hpstudy.study.context",
    **dict.fromkeys(("EarlyTerminate", "Metric", "Sweep"), "hpstudy.sweep"),
    **dict.fromkeys(("FoldResult", "Goal", "Report", "StopDecision", "Trial", "Trials",
                     "TrialState"), "hpstudy.trials"),
}
#: the subpackages, importable as attributes (``hpstudy.space``) once ``hpstudy`` is
_SUBPACKAGES = frozenset({"cli", "demo", "errors", "evaluation", "integrations", "optimizers",
                          "report", "space", "stats", "stopping", "storage", "study", "sweep",
                          "trials"})

__all__ = [
    "ASHA",
    "Beta",
    "Categorical",
    "ConfigError",
    "Constant",
    "EarlyTerminate",
    "FoldResult",
    "GPOptimizer",
    "Goal",
    "GridSearch",
    "HpstudyError",
    "Hyperband",
    "Integer",
    "LogNormal",
    "MedianStopper",
    "Metric",
    "Normal",
    "RandomSearch",
    "Real",
    "Report",
    "SearchSpace",
    "StopDecision",
    "StorageError",
    "Study",
    "StudyInterrupted",
    "Sweep",
    "TooManyFailuresError",
    "Trial",
    "TrialContext",
    "TrialPruned",
    "TrialState",
    "Trials",
    "__version__",
    "analyze",
]


def __getattr__(name: str) -> _typing.Any:
    """Import a public name or subpackage on first use and keep it (PEP 562)."""
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
    elif name in _SUBPACKAGES:
        value = _importlib.import_module(f"hpstudy.{name}")
    else:
        raise AttributeError(f"module 'hpstudy' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
