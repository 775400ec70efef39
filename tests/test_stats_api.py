"""hpstudy.stats: an explicit, sorted __all__ and no heavy imports at import time."""

from __future__ import annotations

import subprocess
import sys

import hpstudy.stats as stats


def test_all_is_sorted_and_complete():
    assert stats.__all__ == sorted(stats.__all__)
    public = {n for n in dir(stats) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(stats, n)).__name__ == "module"}
    assert public - modules - {"annotations"} == set(stats.__all__)


def test_results_render_text_and_html():
    frame = stats.simulate_study(configs_per_model=4, n_folds=4)
    for result in (stats.decompose(frame), stats.proportion_interval(3, 4),
                   stats.bbc_cv(frame.pivot(index="number", columns="fold", values="value"))):
        assert result.summary() == str(result)
        assert result._repr_html_().startswith("<div><table>")


def test_import_is_light():
    code = ("import sys, hpstudy.stats; print([m for m in ('statsmodels', 'sklearn', "
            "'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_numpy_numbers_are_accepted_and_bools_refused_alike():
    """Issue 8 #12c: numpy integers and floats work wherever Python ones do."""
    import numpy as np
    import pytest

    from hpstudy.errors import ConfigError

    frame = stats.simulate_study(configs_per_model=np.int64(4), n_folds=np.int64(4),
                                 tuning_sd=np.float32(0.03), seed=np.int64(1))
    d = stats.decompose(frame, random_model_min=np.int64(3), n_boot=np.int64(20),
                        confidence=np.float32(0.9))
    assert d.n_configs == 8 and d.confidence == pytest.approx(0.9)
    scores = frame.pivot(index="number", columns="fold", values="value").to_numpy()
    assert stats.bbc_cv(scores, n_boot=np.int64(20)).n_boot == 20
    a, b = scores[0], scores[1]
    stats.corrected_ttest(a, b, n_train=np.int64(30), n_test=np.int64(10))
    stats.corrected_ttest(a, b, test_train_ratio=np.float64(0.25))
    stats.bayesian_ttest(a, b, rope=np.float32(0.01), test_train_ratio=np.float32(0.25))
    assert stats.proportion_interval(np.int64(3), np.int64(4)).n == 4
    imp = stats.importance(frame, n_trees=np.int64(4), seed=np.int64(0))
    assert set(imp.shares) == {"model_name", "learning_rate", "optimizer"}
    for call, match in ((lambda: stats.decompose(frame, n_boot=True), "n_boot: must be an integer"),
                        (lambda: stats.decompose(frame, confidence=True), "confidence"),
                        (lambda: stats.bayesian_ttest(a, b, rope=True, test_train_ratio=0.2),
                         "rope: must be a number"),
                        (lambda: stats.corrected_ttest(a, b, test_train_ratio="0.2"),
                         "test_train_ratio: must be a number"),
                        (lambda: stats.simulate_study(n_folds=2.0), "n_folds: must be an integer")):
        with pytest.raises(ConfigError, match=match):
            call()


def test_model_parameter_finds_the_architecture_as_analyze_does():
    import hpstudy
    from hpstudy.stats import model_parameter

    space = hpstudy.SearchSpace({"lr": hpstudy.Real(0.001, 0.1),
                                 "Backbone": hpstudy.Categorical(["a", "b"])})
    study = hpstudy.Study(space, seed=0)
    trials = study.run(lambda p, ctx: p["lr"], n_trials=4, progress=False)
    assert model_parameter(trials) == "Backbone"
    assert model_parameter(trials, None) is None
    assert model_parameter(trials, "lr") == "lr"
    assert model_parameter(trials, "absent") is None
    plain = hpstudy.Study(hpstudy.SearchSpace({"x": hpstudy.Real(0, 1)}), seed=0)
    assert model_parameter(plain.run(lambda p, ctx: p["x"], n_trials=2, progress=False)) is None
