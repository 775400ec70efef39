"""The report benchmark still runs (its --quick mode); the figures come from full runs."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_bench_report_quick_mode_runs(capsys):
    from benchmarks import bench_report

    assert bench_report.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "trials" in out and "100" in out


def test_synthetic_trials_have_the_promised_shape():
    from benchmarks.bench_report import synthetic_trials

    trials = synthetic_trials(60)
    assert len(trials) == 60
    complete = trials.complete
    assert complete and all(len(t.folds) == 5 for t in complete)
    assert any(t.decisions for t in trials)
