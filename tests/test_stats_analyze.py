"""analyze(): one call on a Trials object or its frame."""

from __future__ import annotations

import pytest

from hpstudy.errors import ConfigError
from hpstudy.stats import Analysis, analyze, simulate_study
from hpstudy.trials import FoldResult, Goal, Trial, Trials, TrialState


def _trials(goal: Goal = Goal.MAXIMIZE) -> Trials:
    frame = simulate_study(configs_per_model=8, n_folds=5, seed=4)
    out = []
    for number, rows in frame.groupby("number"):
        folds = tuple(FoldResult(fold=int(r.fold), seed=0, state=TrialState.COMPLETE,
                                 metrics={"val_accuracy": float(r.value)})
                      for r in rows.itertuples())
        params = {"model_name": rows["params.model_name"].iloc[0],
                  "learning_rate": float(rows["params.learning_rate"].iloc[0])}
        out.append(Trial(number=int(number), params=params, state=TrialState.COMPLETE,
                         value=float(rows.value.mean()), folds=folds))
    out.append(Trial(number=99, params={"model_name": "M0", "learning_rate": 1e-4},
                     state=TrialState.FAILED))
    return Trials(out, metric="val_accuracy", goal=goal)


def test_analyze_trials():
    trials = _trials()
    a = analyze(trials, model="model_name")
    assert isinstance(a, Analysis)
    assert a.best[0] == trials.best().number
    assert a.comparison is not None and a.comparison.alternative == "greater"
    assert a.comparison.n == 5
    assert a.decomposition is not None and a.decomposition.n_configs == 16
    assert a.decomposition.metric == "val_accuracy"
    assert a.importance is not None and "learning_rate" in a.importance.shares
    assert a.selection is not None and a.selection.naive == pytest.approx(a.best[1])
    text = a.summary()
    for part in ("Study analysis", "Winner's curse", "Corrected resampled t-test",
                 "Model change vs tuning", "Hyperparameter importance"):
        assert part in text
    assert a._repr_html_().startswith("<div>")


def test_analyze_minimize_frame():
    frame = simulate_study(configs_per_model=6, n_folds=4, seed=1)
    a = analyze(frame, goal="minimize")
    assert a.best[1] == frame.groupby("number").value.mean().min()
    assert a.comparison.alternative == "less"


def test_analyze_validation():
    with pytest.raises(ConfigError, match="trials: must be"):
        analyze([1, 2, 3])
    with pytest.raises(ConfigError, match="goal"):
        analyze(simulate_study(), goal="up")
