"""hpstudy: hyperparameter studies you can trust.

Search spaces and W&B sweep configs, a Gaussian-process Bayesian optimizer with
grid and random baselines, Hyperband early stopping, honest evaluation (k-fold,
grouped folds) and statistics that split a metric's variance into model,
tuning and noise.

``import hpstudy`` stays light: TensorFlow, Dask and scikit-optimize are
imported only by the modules that need them, when they are used.
"""


from hpstudy._version import __version__
from hpstudy.errors import (
    ConfigError,
    HpstudyError,
    StorageError,
    StudyInterrupted,
    TooManyFailuresError,
    TrialPruned,
)
from hpstudy.optimizers import GridSearch, RandomSearch
from hpstudy.space import Beta, Categorical, Constant, Integer, LogNormal, Normal, Real, SearchSpace
from hpstudy.stats import analyze
from hpstudy.stopping import ASHA, Hyperband, MedianStopper
from hpstudy.study import Study
from hpstudy.study.context import TrialContext
from hpstudy.sweep import EarlyTerminate, Metric, Sweep
from hpstudy.trials import FoldResult, Goal, Report, StopDecision, Trial, Trials, TrialState

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


def __getattr__(name: str):
    if name == "GPOptimizer":  # loaded on first use, to keep `import hpstudy` fast
        from hpstudy.optimizers.gp import GPOptimizer

        return GPOptimizer
    raise AttributeError(f"module 'hpstudy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
