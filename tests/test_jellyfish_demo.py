"""``python -m examples.jellyfish demo`` end to end, at tiny settings, on the shipped images."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("keras")
pytest.importorskip("skimage")
pytestmark = [pytest.mark.keras, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
# both families, two image sizes: four distinct configurations, one epoch each
TINY_SWEEP = """\
method: grid
metric: {name: val_accuracy, goal: maximize}
parameters:
  model_name: {values: [ColourHOG, SmallCNN]}
  img_size: {values: [16, 24]}
  epochs: {values: [1]}
  batch_size: {values: [64]}
  learning_rate: {values: [0.003]}
  optimizer: {values: [adam]}
  dropout: {values: [0.2]}
  cnn_width: {values: [4]}
  cnn_depth: {values: [2]}
  baseline_clf: {values: [logreg]}
  baseline_C: {values: [0.1]}
"""


def test_demo_runs_end_to_end_and_prints_its_summary(tmp_path):
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(TINY_SWEEP)
    storage = tmp_path / "demo.db"
    cmd = [sys.executable, "-m", "examples.jellyfish", "demo", "--sweep", str(sweep),
           "--trials", "4", "--folds", "2", "--jobs", "1", "--storage", str(storage),
           "--cache-dir", str(tmp_path / "cache")]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
                         check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert re.search(r"^4 trials in \d+ s: .*'complete': 4", out, re.M)
    summary = out[out.index("== Summary =="):].splitlines()
    assert re.match(r"best trial #\d \((ColourHOG|SmallCNN)\): val_accuracy 0\.\d{4}, mean of "
                    r"2 grouped fold\(s\)", summary[1])
    assert re.match(r"variance of a score: model change \d+%, tuning \d+%, noise \d+%",
                    summary[2])
    test = [line for line in summary if line.startswith("retrained on all of Train, test:")]
    assert len(test) == 1
    m = re.search(r": (0\.\d{3}|1\.000), 95% Wilson \[(\d\.\d{3}), (\d\.\d{3})\] on 40 images",
                  test[0])
    assert m and float(m[2]) <= float(m[1]) <= float(m[3])
    assert any("test without copies of Train" in line and "on 37 images" in line
               for line in summary)
    report = Path(summary[-1].removeprefix("report: "))
    assert report == storage.with_suffix(".html").resolve() and report.stat().st_size > 10_000
    assert "<html" in report.read_text()[:2000].lower()
    assert "%|" in run.stderr  # the progress bar


def test_augment_grid_has_a_row_per_species_and_a_column_per_draw(tmp_path):
    import numpy as np

    from examples.jellyfish.augment_grid import grid, main

    picture = grid(size=16, n_light=1, n_full=1, seed=0)
    assert picture.dtype == np.uint8 and picture.shape == (6 * 18 + 2, 3 * 18 + 2, 3)
    tiles = [picture[2:18, 2 + c * 18:18 + c * 18] for c in range(3)]
    assert not np.array_equal(tiles[0], tiles[1])  # an augmented draw is not the original
    out = tmp_path / "grid.png"
    assert main(["--out", str(out), "--size", "16", "--light", "1", "--full", "1"]) == 0
    assert out.stat().st_size > 1000


def test_search_then_confirm_on_the_demo_study(tmp_path):
    """The recommended workflow: search (the demo), then confirm the best of each model
    without pruning on the same folds, then analyse the balanced design."""
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(TINY_SWEEP)
    storage = tmp_path / "search.db"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    common = ["--folds", "2", "--jobs", "1", "--cache-dir", str(tmp_path / "cache")]
    search = [sys.executable, "-m", "examples.jellyfish", "demo", "--sweep", str(sweep),
              "--trials", "4", "--storage", str(storage), "--no-retrain", *common]
    run = subprocess.run(search, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
                         check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    confirm = [sys.executable, "-m", "examples.jellyfish", "confirm", str(storage), "--top", "2",
               "--seeds", "2", *common]
    run = subprocess.run(confirm, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
                         check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    import hpstudy

    phase = hpstudy.Study.load_confirm(storage)
    models = sorted(t.params["model_name"] for t in phase.trials)
    assert models == ["ColourHOG"] * 2 + ["SmallCNN"] * 2  # the best 2 of each model
    assert all(t.state is hpstudy.TrialState.COMPLETE and len(t.folds) == 4  # 2 folds x 2 seeds
               for t in phase.trials)
    assert "Model change vs tuning vs noise" in run.stdout  # both models, 2 configurations each
    assert storage.with_suffix(".confirm.html").stat().st_size > 10_000
