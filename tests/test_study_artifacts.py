"""ctx.artifact_dir: a folder per trial (and fold) beside the study file, the best kept."""

from __future__ import annotations

import pytest

import hpstudy
from hpstudy import ConfigError, Study, TrialState, evaluation
from tests import _objectives as obj


def _space():
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_best_artifacts_find_what_the_best_trials_saved(tmp_path, n_jobs):
    study = Study(_space(), storage=tmp_path / "a.db", seed=0)
    trials = study.run(obj.saves_artifact, n_trials=6, n_jobs=n_jobs, progress=False)
    ranked = sorted(trials, key=lambda t: -t.value)
    best = study.best_artifacts(k=2)
    assert [t.number for t, _ in best] == [t.number for t in ranked[:2]]
    for t, folder in best:
        assert folder == tmp_path / "a.db.artifacts" / f"trial-{t.number:05d}"
        assert float((folder / "model.txt").read_text()) == t.params["x"]
    # found again from the file alone, as a later session would
    again = Study.load(tmp_path / "a.db").best_artifacts(k=1)
    assert again[0][0].number == ranked[0].number


def test_keep_artifacts_deletes_all_but_the_best(tmp_path):
    study = Study(_space(), storage=tmp_path / "k.db", seed=1)
    trials = study.run(obj.saves_artifact, n_trials=8, keep_artifacts=3, progress=False)
    kept = {t.number for t in trials if study.artifact_dir(t.number) is not None}
    best3 = {t.number for t in sorted(trials, key=lambda t: -t.value)[:3]}
    assert kept == best3
    assert all(t.state is TrialState.COMPLETE for t in trials)
    with pytest.raises(ConfigError, match="keep_artifacts"):
        study.run(obj.saves_artifact, n_trials=1, keep_artifacts=-1)


def test_folds_get_a_folder_each(tmp_path):
    folds = evaluation.kfold(20, n_splits=2, seed=0)
    study = Study(_space(), folds=folds, storage=tmp_path / "f.db", seed=0)
    study.run(obj.saves_artifact, n_trials=2, progress=False)
    folder = study.artifact_dir(0)
    assert sorted(p.name for p in folder.iterdir()) == ["fold-0", "fold-1"]


def test_a_study_in_memory_has_no_artifact_folder():
    study = Study(_space(), seed=0)
    trials = study.run(obj.saves_artifact, n_trials=1, progress=False)
    assert trials[0].state is TrialState.FAILED
    assert "artifact_dir: a study kept in memory has no artifact folder" in trials[0].error
    assert study.best_artifacts() == [] and study.artifact_dir(0) is None
