"""The worked example of docs/model_vs_tuning.rst is what the code prints."""

from __future__ import annotations

from pathlib import Path

from hpstudy.stats import decompose, simulate_study

DOC = Path(__file__).resolve().parents[1] / "docs" / "model_vs_tuning.rst"


def test_worked_example_table_is_current():
    frame = simulate_study(model_effects=(0.0, -0.02), configs_per_model=25, n_folds=5,
                           tuning_sd=0.03, fold_sd=0.01, noise_sd=0.02, seed=0)
    printed = decompose(frame, model="model_name").summary().splitlines()
    doc = [line.strip() for line in DOC.read_text().splitlines()]
    start = doc.index("Model change vs tuning vs noise")
    shown = doc[start:doc.index("Standard deviation and range of mean scores", start)]
    body = [line.strip() for line in printed[:printed.index("Standard deviation and range of "
                                                             "mean scores")]]
    assert [line for line in shown if line] == [line for line in body if line]
