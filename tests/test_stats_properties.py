"""Property tests of the closed-form variance components (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpstudy.stats import mls_interval, variance_components


@st.composite
def crossed_designs(draw):
    a = draw(st.integers(2, 5))
    b = draw(st.integers(2, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    y = (rng.normal(0, draw(st.floats(0.1, 3.0)), a)[:, None]
         + rng.normal(0, draw(st.floats(0.1, 3.0)), b)[None, :] + rng.normal(0, 1.0, (a, b)))
    return pd.DataFrame({"a": np.repeat(np.arange(a), b), "b": np.tile(np.arange(b), a),
                         "y": y.ravel()})


@settings(max_examples=40, deadline=None)
@given(crossed_designs(), st.floats(0.01, 100.0), st.floats(-1e3, 1e3), st.integers(0, 10**6))
def test_affine_equivariance_and_row_order(df, scale, shift, perm_seed):
    base = variance_components(df, "y", random=["a", "b"], method="anova")
    moved = df.assign(y=shift + scale * df["y"])
    moved = moved.sample(frac=1.0, random_state=perm_seed % (2**32))
    r = variance_components(moved, "y", random=["a", "b"], method="anova")
    for k in ("a", "b"):
        assert r.components[k] == pytest.approx(scale**2 * base.components[k], rel=1e-6, abs=1e-9)
        lo, hi = r.intervals[k]
        assert lo == pytest.approx(scale**2 * base.intervals[k][0], rel=1e-6, abs=1e-9)
        assert hi == pytest.approx(scale**2 * base.intervals[k][1], rel=1e-6, abs=1e-9)
    assert r.residual == pytest.approx(scale**2 * base.residual, rel=1e-6)
    assert r.fixed["Intercept"][0] == pytest.approx(shift + scale * base.fixed["Intercept"][0])


@settings(max_examples=40, deadline=None)
@given(crossed_designs())
def test_reml_is_anova_truncated_and_table_adds_up(df):
    anova = variance_components(df, "y", random=["a", "b"], method="anova")
    reml = variance_components(df, "y", random=["a", "b"])
    total_ss = float(((df["y"] - df["y"].mean()) ** 2).sum())
    assert sum(s.ss for s in anova.anova_table[1:]) == pytest.approx(total_ss, rel=1e-9)
    if min(anova.components.values()) >= 0:
        for k in ("a", "b"):
            assert reml.components[k] == pytest.approx(anova.components[k], rel=1e-9)
    for k in ("a", "b"):
        assert reml.components[k] >= 0
        lo, hi = reml.intervals[k]
        assert 0 <= lo <= hi


@given(st.floats(0.01, 10.0), st.integers(1, 200), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_mls_single_mean_square_is_exact_chi_square(ms, df, conf):
    from scipy import stats

    lo, hi = mls_interval([1.0], [ms], [df], conf)
    alpha = (1 - conf) / 2
    assert lo == pytest.approx(df * ms / stats.chi2.ppf(1 - alpha, df), rel=1e-9)
    assert hi == pytest.approx(df * ms / stats.chi2.ppf(alpha, df), rel=1e-9)
