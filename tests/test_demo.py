"""The README's main job (`make demo`) keeps working: a short run of it."""

from __future__ import annotations

from hpstudy import Study
from hpstudy.demo import main


def test_demo_runs_a_real_study_and_prints_the_analysis(tmp_path, capsys):
    db = tmp_path / "demo.db"
    assert main(["--trials", "8", "--jobs", "1", "--storage", str(db), "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "best trial #" in out
    assert "Model change vs tuning vs noise" in out
    from hpstudy import evaluation
    from hpstudy.demo import _data

    folds = evaluation.stratified_kfold(_data()[1], n_splits=5, seed=1)
    trials = Study.load(db, folds=folds).trials
    assert len(trials) == 8
    assert all(len(t.folds) == 5 for t in trials)
    assert trials.best().value > 0.9  # 8 random configurations of 3 families find one
    page = tmp_path / "demo.html"
    assert f"report: {page.resolve()}" in out
    html = page.read_text(encoding="utf-8")
    assert "Model change vs tuning vs noise" in html and "data:image/png;base64," in html
