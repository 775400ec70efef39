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


def _tiny_objective(params, ctx):
    """A score with an architecture effect (when there is one), a tuning effect and noise."""
    import numpy as np

    rng = np.random.default_rng(ctx.seed)
    arch = {"small": 0.0, "big": 0.05}.get(params.get("Backbone"), 0.0)
    return 0.8 + arch - (params["lr"] - 0.3) ** 2 + 0.01 * ctx.fold.index + rng.normal(0, 0.01)


def _run_study(space: dict, n_trials: int = 12) -> Trials:
    import hpstudy
    from hpstudy.evaluation import kfold

    study = hpstudy.Study(hpstudy.SearchSpace(space), seed=1, folds=kfold(30, n_splits=3))
    return study.run(_tiny_objective, n_trials=n_trials)


def test_analyze_an_ordinary_study_has_a_single_architecture():
    """Issue 8 #3: no 'model_name' parameter used to raise "no column 'model_name'"."""
    import hpstudy

    trials = _run_study({"lr": hpstudy.Real(0.0, 1.0),
                         "optimizer": hpstudy.Categorical(["adam", "sgd"])})
    a = hpstudy.analyze(trials)
    assert a.model is None and a.decomposition.model_kind == "absent"
    assert a.notes[0].startswith("single architecture")
    assert "single architecture" in a.summary()
    assert a.decomposition.notes[0].startswith("single architecture")


def test_analyze_detects_a_parameter_named_like_a_model():
    import hpstudy

    trials = _run_study({"lr": hpstudy.Real(0.0, 1.0),
                         "Backbone": hpstudy.Categorical(["small", "big"])}, n_trials=16)
    a = hpstudy.analyze(trials)
    assert a.model == "Backbone" and a.decomposition.model_kind == "fixed"
    assert "'Backbone' (detected" in a.notes[0]
    assert set(a.decomposition.best_per_model) == {"small", "big"}
    single = hpstudy.analyze(trials, model=None)  # told: one architecture
    assert single.model is None and single.decomposition.model_kind == "absent"


def test_model_detection_rules():
    frame = simulate_study(configs_per_model=4, n_folds=3)
    # a real-valued parameter named "model" is no architecture
    a = analyze(frame.rename(columns={"params.model_name": "params.arch",
                                      "params.learning_rate": "params.model"}))
    assert a.model == "arch"
    with pytest.raises(ConfigError, match="several parameters look like the architecture"):
        analyze(frame.assign(**{"params.network": "n1"}))
    with pytest.raises(ConfigError, match="model: no column 'arch'"):
        analyze(frame, model="arch")
