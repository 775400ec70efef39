"""Variance components and the study decomposition: validation, solvers, recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hpstudy.errors import ConfigError
from hpstudy.stats import decompose, simulate_study, variance_components


def _nested_crossed(seed: int, n_models=6, n_cfg=8, n_folds=5, sds=(0.03, 0.02, 0.01, 0.015)):
    """model (random) > config, crossed with fold: known components."""
    rng = np.random.default_rng(seed)
    m = np.repeat(np.arange(n_models), n_cfg)
    c = np.arange(n_models * n_cfg)
    y = (rng.normal(0, sds[0], n_models)[m][:, None] + rng.normal(0, sds[1], len(c))[:, None]
         + rng.normal(0, sds[2], n_folds)[None, :] + rng.normal(0, sds[3], (len(c), n_folds)))
    return pd.DataFrame({"y": y.ravel(), "model": np.repeat(m, n_folds),
                         "config": np.repeat(c % n_cfg, n_folds),  # labels reused across models
                         "fold": np.tile(np.arange(n_folds), len(c))})


def test_validation_names_the_column():
    df = pd.DataFrame({"g": list("aabbcc"), "y": [1.0, 1.2, 2.0, np.nan, 0.5, 0.4]})
    with pytest.raises(ConfigError, match="y: response must be finite"):
        variance_components(df, "y", random=["g"])
    with pytest.raises(ConfigError, match="'h' is not in data"):
        variance_components(df.fillna(0), "y", random=["h"])
    with pytest.raises(ConfigError, match="response: column 'z'"):
        variance_components(df.fillna(0), "z", random=["g"])
    with pytest.raises(ConfigError, match="g: needs at least 2 levels"):
        variance_components(df.fillna(0).assign(g="a"), "y", random=["g"])
    with pytest.raises(ConfigError, match="method"):
        variance_components(df.fillna(0), "y", random=["g"], method="bayes")
    with pytest.raises(ConfigError, match="nested: parent"):
        variance_components(df.fillna(0), "y", random=["g"], nested={"g": "q"})


def test_anova_refuses_unbalanced():
    df = pd.DataFrame({"g": list("aabbbcc"), "y": [1.0, 1.2, 2.0, 2.1, 2.3, 0.5, 0.4]})
    with pytest.raises(ConfigError, match="needs a balanced design"):
        variance_components(df, "y", random=["g"], method="anova")
    r = variance_components(df, "y", random=["g"], n_boot=20)
    assert r.solver == "mixedlm" and "not balanced" in r.notes[0]
    lo, hi = r.intervals["g"]
    assert 0 <= lo <= hi


def test_nested_crossed_closed_form_matches_mixedlm():
    df = _nested_crossed(1)
    kw = dict(random=["model", "config", "fold"], nested={"config": "model"})
    a = variance_components(df, "y", **kw)
    b = variance_components(df, "y", solver="mixedlm", n_boot=0, **kw)
    assert a.solver == "balanced"
    for k in ("model", "config", "fold"):
        assert b.components[k] == pytest.approx(a.components[k], rel=1e-2, abs=1e-8)
    assert b.residual == pytest.approx(a.residual, rel=1e-3)
    assert b.reml_criterion == pytest.approx(a.reml_criterion, abs=1e-2)
    ml_a = variance_components(df, "y", method="ml", **kw)
    ml_b = variance_components(df, "y", method="ml", solver="mixedlm", n_boot=0, **kw)
    assert ml_b.loglike == pytest.approx(ml_a.loglike, abs=1e-2)
    assert ml_b.components["model"] == pytest.approx(ml_a.components["model"], rel=1e-2)


def test_negative_anova_goes_to_boundary_under_reml():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"g": np.repeat(np.arange(10), 4), "y": rng.normal(0, 1, 40)})
    # pick a seed where the ANOVA estimate is negative
    a = variance_components(df, "y", random=["g"], method="anova")
    if a.components["g"] >= 0:
        df["y"] = df["y"] - df.groupby("g")["y"].transform("mean") + rng.normal(0, 1e-3, 40)
        a = variance_components(df, "y", random=["g"], method="anova")
    assert a.components["g"] < 0
    r = variance_components(df, "y", random=["g"])
    assert r.components["g"] == pytest.approx(0.0, abs=1e-9) and "g" in r.boundary
    m = variance_components(df, "y", random=["g"], solver="mixedlm", n_boot=0)
    assert m.components["g"] == pytest.approx(0.0, abs=1e-4 * m.residual)
    assert m.residual == pytest.approx(r.residual, rel=1e-3)


def test_decompose_recovers_known_components():
    frame = simulate_study(model_effects=(0.0, -0.02), configs_per_model=40, n_folds=10,
                           tuning_sd=0.03, fold_sd=0.01, noise_sd=0.02, seed=5)
    d = decompose(frame, model="model_name")
    assert d.model_kind == "fixed" and d.fit.solver == "balanced"
    for key, truth in (("tuning", 0.03**2), ("residual", 0.02**2), ("folds", 0.01**2)):
        est, lo, hi = d.sources[key]
        assert lo <= truth <= hi, (key, est, lo, hi)
    # design scale: effects +-0.01 over the scores vary by 0.01^2; the unbiased spread is 2x
    assert d.sources["model"][1] <= 0.01**2 <= d.sources["model"][2]
    assert d.model_spread[1] <= 0.02**2 / 2 <= d.model_spread[2]
    assert set(d.best_per_model) == {"M0", "M1"}
    assert d.across_models is not None and d.across_models.n == 2
    assert abs(sum(d.shares.values()) - 1) < 1e-12
    assert "Model change vs tuning" in d.summary() and "<table>" in d._repr_html_()


def test_decompose_drops_incomplete_configs_and_stays_closed_form():
    frame = simulate_study(configs_per_model=10, n_folds=4, seed=2)
    frame = frame[~((frame.number == 3) & (frame.fold == 1))]
    d = decompose(frame)
    assert d.dropped == 1 and d.n_configs == 19 and d.fit.solver == "balanced"


def test_decompose_validation():
    frame = simulate_study(configs_per_model=3, n_folds=1)
    with pytest.raises(ConfigError, match="at least 2 folds"):
        decompose(frame)
    with pytest.raises(ConfigError, match="model: no column 'arch'"):
        decompose(simulate_study(), model="arch")


@pytest.mark.slow
def test_interval_coverage_over_200_draws():
    """MLS intervals of a balanced nested + crossed design cover at about 95%."""
    truth = {"model": 0.03**2, "config": 0.02**2, "fold": 0.01**2, "Residual": 0.015**2}
    hits = dict.fromkeys(truth, 0)
    n = 200
    for seed in range(n):
        r = variance_components(_nested_crossed(seed), "y", random=["model", "config", "fold"],
                                nested={"config": "model"})
        for k, v in truth.items():
            lo, hi = r.intervals[k]
            hits[k] += lo <= v <= hi
    coverage = {k: h / n for k, h in hits.items()}
    print("coverage of 95% intervals over", n, "draws:", coverage)
    for k, c in coverage.items():
        assert 0.90 <= c <= 0.995, (k, c)


def test_fixed_factor_ml_matches_mixedlm_and_many_models_are_random():
    frame = simulate_study(model_effects=(0.0, -0.02, 0.01), configs_per_model=6, n_folds=4)
    long = pd.DataFrame({"y": frame["value"], "model": frame["params.model_name"],
                         "config": frame["number"], "fold": frame["fold"]})
    kw = dict(random=["config", "fold"], fixed=["model"], nested={"config": "model"}, method="ml")
    a = variance_components(long, "y", **kw)
    b = variance_components(long, "y", solver="mixedlm", n_boot=0, **kw)
    assert a.solver == "balanced"
    assert b.loglike == pytest.approx(a.loglike, abs=1e-3)
    assert b.components["config"] == pytest.approx(a.components["config"], rel=1e-2)
    many = simulate_study(model_effects=(0.0, -0.02, 0.01, 0.03, -0.01, 0.0),
                          configs_per_model=5, n_folds=3)
    d = decompose(many)
    assert d.model_kind == "random" and d.sources["model"][0] > 0


def test_mixedlm_singular_hessian_falls_back_to_profile_fit():
    """This unbalanced draw makes MixedLM's Hessian singular (group variance on the boundary)."""
    sizes = np.array([2, 3, 3, 4, 5, 5, 6, 8])
    groups = np.repeat(np.arange(len(sizes)), sizes)
    rng = np.random.default_rng(1019)
    y = rng.normal(0, 1.0, len(sizes))[groups] + rng.normal(0, 1.0, len(groups))
    r = variance_components(pd.DataFrame({"g": groups, "y": y}), "y", random=["g"], n_boot=0)
    assert any("singular" in note for note in r.notes)
    # on the boundary REML is the one-sample fit: residual = sample variance
    assert "g" in r.boundary
    assert r.residual == pytest.approx(np.var(y, ddof=1), rel=1e-3)
    est, se = r.fixed["Intercept"]
    assert est == pytest.approx(y.mean(), rel=1e-4)
    assert se == pytest.approx(np.std(y, ddof=1) / np.sqrt(len(y)), rel=1e-3)


_SDS = {"tuning_sd": 0.03, "fold_sd": 0.01, "noise_sd": 0.02}
_KEYS = ("model", "tuning", "folds", "residual")


def _design_shares(effects, sds=_SDS, weights=None) -> np.ndarray:
    """True shares of one score's variance: fixed effects vary by sum(w (a - a_bar)^2)."""
    a = np.asarray(effects, dtype=float)
    w = np.full(len(a), 1 / len(a)) if weights is None else np.asarray(weights) / np.sum(weights)
    v = np.array([w @ (a - w @ a) ** 2, sds["tuning_sd"] ** 2, sds["fold_sd"] ** 2,
                  sds["noise_sd"] ** 2])
    return v / v.sum()


def _mean_shares(effects, n_studies, configs, n_folds, sds=_SDS, **kw):
    got = []
    for seed in range(n_studies):
        frame = simulate_study(model_effects=effects, configs_per_model=configs, n_folds=n_folds,
                               seed=seed, **sds)
        d = decompose(frame, n_boot=10, **kw)
        got.append([d.shares[k] for k in _KEYS])
    got = np.array(got)
    return got.mean(axis=0), got.std(axis=0, ddof=1) / np.sqrt(n_studies), d


def test_model_share_is_a_share_of_one_scores_variance():
    """Issue 8 #2: 2 architectures 0 / -0.08, tuning sd 0.03, noise 0.02: model share 0.552."""
    sds = {"tuning_sd": 0.03, "fold_sd": 0.0, "noise_sd": 0.02}
    truth = _design_shares((0.0, -0.08), sds)
    assert truth[0] == pytest.approx(0.552, abs=1e-3)
    mean, se, d = _mean_shares((0.0, -0.08), 30, 40, 5, sds)
    assert d.model_kind == "fixed"
    assert abs(mean[0] - truth[0]) <= 2 * se[0], (mean, truth, se)  # was 0.708 (k/(k-1) too big)
    assert sum(d.shares.values()) == pytest.approx(1.0)
    assert d.total == pytest.approx(sum(v[0] for v in d.sources.values()))
    # the unbiased spread sum((a - a_bar)^2)/(k-1) is kept apart, k/(k-1) = 2 times the source
    assert np.allclose(d.model_spread, [2 * v for v in d.sources["model"]])
    assert "unbiased spread" in d.summary()


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 3, 4, 8])
def test_shares_match_the_designs_true_shares_over_200_studies(k):
    """Fixed model factor with k known effects: every share within 2 SE of the truth."""
    effects = np.linspace(0.0, -0.06, k)
    mean, se, d = _mean_shares(effects, 200, 240 // k, 10, random_model_min=9)
    assert d.model_kind == "fixed"
    truth = _design_shares(effects)
    assert np.all(np.abs(mean - truth) <= 2 * se), (k, mean, truth, se)


def test_fixed_model_source_weights_architectures_by_their_scores():
    """Unequal configurations per architecture: sum(n_i (a_i - a_bar_w)^2) / n."""
    effects = (0.0, -0.08, 0.02)
    tiny = {"tuning_sd": 1e-5, "fold_sd": 1e-5, "noise_sd": 1e-5}
    frame = simulate_study(model_effects=effects, configs_per_model=10, n_folds=4, seed=3, **tiny)
    frame = frame[~frame["number"].isin(range(5))]  # M0 keeps 5 configurations of 10
    d = decompose(frame)
    assert d.fit.solver == "balanced" and d.model_kind == "fixed"
    w = np.array([5, 10, 10]) / 25
    a = np.array(effects)
    assert d.sources["model"][0] == pytest.approx(w @ (a - w @ a) ** 2, rel=1e-3)


def test_constant_metric_gives_nan_shares_not_an_error():
    frame = simulate_study(configs_per_model=4, n_folds=3).assign(value=0.5)
    d = decompose(frame)
    assert d.total == 0 and all(np.isnan(v) for v in d.shares.values())
    assert "constant" in d.summary()
    assert all(np.isnan(v) for v in d.fit.shares.values())  # ZeroDivisionError before
    assert "nan%" in d.fit.summary()
