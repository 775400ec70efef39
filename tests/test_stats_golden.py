"""Golden tests: variance components against published lme4 results.

Data: tests/data/Dyestuff.csv and Penicillin.csv (lme4 data sets, via Rdatasets).
Published numbers (lme4, Bates et al.; Bates, "lme4: Mixed-effects modeling with R"):

* Dyestuff, REML: batch variance 1764 (sd 42.0010), residual 2451 (sd 49.5101),
  intercept 1527.5 (SE 19.38), REML criterion 319.7. ML: logLik -163.6635,
  batch sd 37.2602. ANOVA: MSB 11271.5, MSW 2451.25, F(5, 24) = 4.598, p = 0.0044.
* Penicillin, REML: plate sd 0.8467, sample sd 1.9316, residual sd 0.5499,
  intercept 22.9722 (SE 0.8086), REML criterion 330.9.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from hpstudy.stats import variance_components

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def dyestuff() -> pd.DataFrame:
    return pd.read_csv(DATA / "Dyestuff.csv")


@pytest.fixture(scope="module")
def penicillin() -> pd.DataFrame:
    return pd.read_csv(DATA / "Penicillin.csv")


@pytest.mark.parametrize("solver", ["auto", "mixedlm"])
def test_dyestuff_reml(dyestuff, solver):
    r = variance_components(dyestuff, "Yield", random=["Batch"], solver=solver, n_boot=0)
    assert r.components["Batch"] == pytest.approx(1764.05, rel=1e-3)
    assert r.sd["Batch"] == pytest.approx(42.0010, rel=1e-4)
    assert r.residual == pytest.approx(2451.25, rel=1e-3)
    assert r.sd["Residual"] == pytest.approx(49.5101, rel=1e-4)
    est, se = r.fixed["Intercept"]
    assert est == pytest.approx(1527.5, rel=1e-6)
    assert se == pytest.approx(19.38, rel=1e-3)
    assert r.reml_criterion == pytest.approx(319.7, abs=0.05)
    assert r.solver == ("balanced" if solver == "auto" else "mixedlm")


@pytest.mark.parametrize("solver", ["auto", "mixedlm"])
def test_dyestuff_ml(dyestuff, solver):
    r = variance_components(dyestuff, "Yield", random=["Batch"], method="ml", solver=solver,
                            n_boot=0)
    assert r.loglike == pytest.approx(-163.6635, abs=1e-3)
    assert r.sd["Batch"] == pytest.approx(37.2602, rel=1e-4)
    assert r.sd["Residual"] == pytest.approx(49.5101, rel=1e-4)


def test_dyestuff_anova_table(dyestuff):
    r = variance_components(dyestuff, "Yield", random=["Batch"], method="anova")
    table = {s.name: s for s in r.anova_table}
    assert table["Batch"].df == 5 and table["Residual"].df == 24
    assert table["Batch"].ms == pytest.approx(11271.5, rel=1e-6)
    assert table["Residual"].ms == pytest.approx(2451.25, rel=1e-6)
    f = table["Batch"].ms / table["Residual"].ms
    assert f == pytest.approx(4.598, abs=1e-3)
    assert stats.f.sf(f, 5, 24) == pytest.approx(0.0044, abs=5e-5)
    # balanced, components positive: ANOVA equals REML; ICC 0.4185
    assert r.components["Batch"] == pytest.approx(1764.05, rel=1e-6)
    assert r.shares["Batch"] == pytest.approx(0.4185, abs=1e-4)
    # MLS interval contains the estimate; residual interval is the exact chi-square one
    lo, hi = r.intervals["Batch"]
    assert 0 < lo < 1764.05 < hi
    rlo, rhi = r.intervals["Residual"]
    assert rlo == pytest.approx(24 * 2451.25 / stats.chi2.ppf(0.975, 24), rel=1e-9)
    assert rhi == pytest.approx(24 * 2451.25 / stats.chi2.ppf(0.025, 24), rel=1e-9)


@pytest.mark.parametrize("method", ["reml", "anova"])
def test_penicillin_crossed(penicillin, method):
    r = variance_components(penicillin, "diameter", random=["plate", "sample"], method=method)
    assert r.solver == "balanced"
    assert r.sd["plate"] == pytest.approx(0.8467, rel=5e-4)
    assert r.sd["sample"] == pytest.approx(1.9316, rel=5e-4)
    assert r.sd["Residual"] == pytest.approx(0.5499, rel=5e-4)
    est, se = r.fixed["Intercept"]
    assert est == pytest.approx(22.9722, rel=1e-5)
    assert se == pytest.approx(0.8086, rel=5e-4)
    if method == "reml":
        assert r.reml_criterion == pytest.approx(330.9, abs=0.05)


def test_penicillin_mixedlm_matches_closed_form(penicillin):
    a = variance_components(penicillin, "diameter", random=["plate", "sample"])
    b = variance_components(penicillin, "diameter", random=["plate", "sample"], solver="mixedlm",
                            n_boot=0)
    for k in ("plate", "sample"):
        assert b.components[k] == pytest.approx(a.components[k], rel=2e-3)
    assert b.residual == pytest.approx(a.residual, rel=2e-3)
    assert b.reml_criterion == pytest.approx(a.reml_criterion, abs=1e-3)
