"""Honest statistics for hyperparameter studies.

* :func:`decompose` - the variance of the metric split into model change,
  tuning and noise (folds, residual), with intervals, plus the seed's simple
  standard deviations and ranges.
* :func:`variance_components` - variance components of any data frame
  (balanced designs in closed form, others by statsmodels' MixedLM).
* :func:`importance` / :func:`forest_importance` - functional ANOVA on a
  random-forest surrogate.
* :func:`corrected_ttest`, :func:`bayesian_ttest`, :func:`mcnemar_test`,
  :func:`proportion_interval` - comparisons and accuracy intervals.
* :func:`bbc_cv` - the winner's curse, bias-corrected.
* :func:`analyze` - all of it in one call.
"""

from __future__ import annotations

from hpstudy.stats._components import VarianceComponents, variance_components
from hpstudy.stats._frame import MODEL_NAMES, model_parameter
from hpstudy.stats._simulate import simulate_study
from hpstudy.stats.analyze import Analysis, analyze
from hpstudy.stats.compare import (
    BayesianComparison,
    CorrectedTTest,
    McNemarTest,
    bayesian_ttest,
    corrected_ttest,
    mcnemar_test,
)
from hpstudy.stats.importance import Importance, forest_importance, importance
from hpstudy.stats.intervals import (
    ProportionInterval,
    mls_interval,
    percentile_interval,
    proportion_interval,
)
from hpstudy.stats.selection import SelectionBias, bbc_cv
from hpstudy.stats.variance import Decomposition, Spread, decompose

__all__ = [
    "Analysis",
    "BayesianComparison",
    "CorrectedTTest",
    "Decomposition",
    "Importance",
    "MODEL_NAMES",
    "McNemarTest",
    "ProportionInterval",
    "SelectionBias",
    "Spread",
    "VarianceComponents",
    "analyze",
    "bayesian_ttest",
    "bbc_cv",
    "corrected_ttest",
    "decompose",
    "forest_importance",
    "importance",
    "mcnemar_test",
    "mls_interval",
    "model_parameter",
    "percentile_interval",
    "proportion_interval",
    "simulate_study",
    "variance_components",
]
