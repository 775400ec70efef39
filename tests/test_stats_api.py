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
