"""Every benchmark still runs (its --quick mode); the figures themselves come from full runs."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bench_study_overhead", "bench_gp_overhead", "bench_stopping",
                                  "bench_variance", "bench_sample_efficiency",
                                  "bench_gp_ablation", "bench_aa"])
def test_benchmark_quick_mode_runs(name, capsys):
    module = importlib.import_module(f"benchmarks.{name}")
    module.main(["--quick"])
    out = capsys.readouterr().out
    assert out.strip(), f"{name} printed nothing"
