"""Report sections: each section's data checked against the trials it comes from."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hpstudy
from hpstudy.report import build_report, load_study_data
from hpstudy.storage import SQLiteStorage
from tests import _report_studies as rs


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "three.db"
    return path, rs.multi_model(path, n_trials=24)


@pytest.fixture(scope="module")
def pruned(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "pruned.db"
    study = rs.multi_model(path, n_trials=12, stopper=hpstudy.Hyperband(min_iter=3, eta=3))
    return build_report(path), study


@pytest.fixture(scope="module")
def report(stored):
    return build_report(stored[0])


def test_load_reads_a_study_with_folds_without_its_folds_and_appends_nothing(stored):
    path, study = stored
    before = len(SQLiteStorage(path).read(0))
    record = load_study_data(path)
    assert len(SQLiteStorage(path).read(0)) == before
    assert [t.number for t in record.trials] == [t.number for t in study.trials]
    assert [t.value for t in record.trials] == [t.value for t in study.trials]
    assert record.settings["folds"]["fingerprint"] == study.folds.fingerprint()
    assert record.settings["metric"] == "accuracy" and record.trials.goal.value == "maximize"
    assert record.name == "three models"


def test_load_refuses_missing_files_and_other_objects(tmp_path):
    with pytest.raises(hpstudy.StorageError, match="no such file"):
        load_study_data(tmp_path / "nope.db")
    with pytest.raises(hpstudy.ConfigError, match="study: must be"):
        load_study_data(42)


def test_history_best_so_far_is_the_running_best_of_complete_trials(report, stored):
    h = report["history"].data
    trials = stored[1].trials
    best, expected = -math.inf, []
    for t in trials:
        if t.state is hpstudy.TrialState.COMPLETE:
            best = max(best, t.value)
        expected.append(best if math.isfinite(best) else math.nan)
    np.testing.assert_allclose(h.best_so_far, expected)
    assert list(h.numbers) == [t.number for t in trials]
    assert np.all(np.diff(h.best_so_far[np.isfinite(h.best_so_far)]) >= 0)


def test_top_trials_are_ranked_with_fold_values_and_intervals(report, stored):
    rows = report["top"].data
    complete = sorted((t for t in stored[1].trials.complete), key=lambda t: -t.value)
    assert [r.number for r in rows] == [t.number for t in complete[:10]]
    for r in rows:
        assert len(r.folds) == 4
        assert np.mean(r.folds) == pytest.approx(r.value)
        lo, hi = r.interval
        assert lo < r.value < hi


def test_importance_intervals_are_clipped_and_r2_stated(report):
    sec = report["importance"]
    assert sec.ok
    for _, share, lo, hi in sec.data["rows"]:
        assert 0.0 <= lo <= hi <= 1.0 and 0.0 <= share <= 1.0
    assert {r[0] for r in sec.data["rows"]} >= {"model_name", "lr", "interactions"}
    assert f"R² = {sec.data['r2']:.2f}" in " ".join(sec.notes)


def test_decomposition_has_model_tuning_and_noise(report):
    dec = report["decomposition"].data
    assert set(dec.sources) == {"model", "tuning", "folds", "residual"}
    assert dec.n_folds == 4
    assert set(dec.within_models) <= {"svc", "knn", "logreg"}


def test_distributions_pick_each_models_best_complete_trial(report, stored):
    models = report["distributions"].data["models"]
    for name, d in models.items():
        mine = [t for t in stored[1].trials.complete if t.params["model_name"] == name]
        assert d["best"] == max(mine, key=lambda t: t.value).number
        assert len(d["means"]) == len(mine)
        assert len(d["best_folds"]) == 4


def test_curves_hold_every_report_per_fold_and_the_stopping_decisions(pruned):
    report, study = pruned
    data = report["curves"].data
    trials = study.trials
    n_reports = sum(len(t.reports) for t in trials)
    assert trials.with_state(hpstudy.TrialState.PRUNED), "the fixture should prune some trials"
    assert sum(len(c.steps) for c in data["curves"]) == n_reports
    assert len(data["decisions"]) == sum(len(t.decisions) for t in trials)
    for t in trials.with_state(hpstudy.TrialState.PRUNED):
        stops = [c for c in data["curves"] if c.number == t.number and c.stopped_at is not None]
        assert stops, f"pruned trial {t.number} has no stopped curve"


def test_comparison_names_best_and_runner_up_in_words(report, stored):
    data = report["comparison"].data
    complete = sorted(stored[1].trials.complete, key=lambda t: -t.value)
    assert data["best"][0] == complete[0].number and data["runner_up"][0] == complete[1].number
    text = " ".join(data["sentences"])
    assert f"Trial {complete[0].number} has the best mean accuracy" in text
    assert "with probability" in text and "winner's curse" in text
    by = data["bayes"]
    assert by.prob_a_better + by.prob_equivalent + by.prob_b_better == pytest.approx(1.0)


def test_settings_show_folds_fingerprint_and_status(report, stored):
    rows = dict(report["settings"].data["rows"])
    assert rows["data fingerprint"].startswith(stored[1].folds.fingerprint()[:16])
    assert "4 splits" in rows["folds"]
    assert rows["status"].startswith("24 trials")
    assert rows["early stopping"].startswith("none")


def test_settings_name_the_stopper_seen_in_the_decisions(pruned):
    assert "hyperband" in dict(pruned[0]["settings"].data["rows"])["early stopping"]


def test_zero_trials_gives_reasons_not_crashes(tmp_path):
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    hpstudy.Study(space, storage=tmp_path / "empty.db")
    rep = build_report(tmp_path / "empty.db")
    assert rep["settings"].ok
    for key in ("history", "params", "importance", "decomposition", "distributions", "curves",
                "top", "comparison"):
        assert not rep[key].ok and rep[key].reason


def test_all_failed_study(tmp_path):
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    study = hpstudy.Study(space, storage=tmp_path / "f.db")
    study.run(rs.always_fails, n_trials=4, progress=False)
    rep = build_report(tmp_path / "f.db")
    assert rep["history"].ok and all(np.isnan(rep["history"].data.values))
    assert rep["settings"].data["counts"]["failed"] == 4
    assert "4 failed" in dict(rep["settings"].data["rows"])["status"]
    assert not rep["top"].ok and not rep["comparison"].ok


def test_one_model_has_no_model_component_and_no_folds_gives_a_reason():
    rep = build_report(rs.one_model(n_trials=8))
    assert rep.model is None
    assert rep["decomposition"].data.model_kind == "absent"
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    study = hpstudy.Study(space, seed=0)
    study.run(rs.plain, n_trials=6, progress=False)
    rep = build_report(study)
    assert not rep["decomposition"].ok and "2 folds" in rep["decomposition"].reason
    assert any("one evaluation per trial" in s for s in rep["comparison"].data["sentences"])


def test_categorical_only_space():
    space = hpstudy.SearchSpace({"opt": hpstudy.Categorical(["a", "b", "c"]),
                                 "flag": hpstudy.Categorical(["on", "off"])})
    study = hpstudy.Study(space, seed=0)
    study.run(rs.categorical, n_trials=12, progress=False)
    rep = build_report(study)
    assert rep["params"].data.kinds == {"opt": "categorical", "flag": "categorical"}
    assert rep["importance"].ok


def test_running_trials_with_no_recent_event_are_flagged():
    from hpstudy.report import StudyRecord
    from hpstudy.report._data import settings_section

    trials = hpstudy.Trials([hpstudy.Trial(number=0, params={"x": 1.0}, started_at=100.0)])
    fresh = StudyRecord(trials=trials, read_at=200.0, last_event_at=150.0)
    stale = StudyRecord(trials=trials, read_at=2000.0, last_event_at=150.0)
    assert "probably stopped" not in dict(settings_section(fresh).data["rows"])["status"]
    assert "probably stopped" in dict(settings_section(stale).data["rows"])["status"]


def test_curves_are_capped_keeping_stopped_trials_first(pruned):
    from hpstudy.report._data import curves_section

    trials = pruned[1].trials
    stopped = {t.number for t in trials if any(d.stop for d in t.decisions)}
    sec = curves_section(trials, limit=3)
    drawn = {c.number for c in sec.data["curves"]}
    assert len(drawn) == 3
    assert drawn <= stopped if len(stopped) >= 3 else stopped <= drawn
    assert "the 3 drawn" in sec.notes[0]
