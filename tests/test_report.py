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
    for r in sec.data.rows:
        assert 0.0 <= r.low <= r.high <= 1.0 and 0.0 <= r.share <= 1.0
    assert {r.name for r in sec.data.rows} >= {"model_name", "lr", "interactions"}
    assert f"R² = {sec.data.r2:.2f}" in " ".join(sec.notes)


def test_decomposition_has_model_tuning_and_noise(report):
    dec = report["decomposition"].data
    assert set(dec.sources) == {"model", "tuning", "folds", "residual"}
    assert dec.n_folds == 4
    assert set(dec.within_models) <= {"svc", "knn", "logreg"}


def test_distributions_pick_each_models_best_complete_trial(report, stored):
    models = report["distributions"].data.models
    for name, d in models.items():
        mine = [t for t in stored[1].trials.complete if t.params["model_name"] == name]
        assert d.best == max(mine, key=lambda t: t.value).number
        assert len(d.means) == len(mine)
        assert len(d.best_folds) == 4


def test_curves_hold_every_report_per_fold_and_the_stopping_decisions(pruned):
    report, study = pruned
    data = report["curves"].data
    trials = study.trials
    n_reports = sum(len(t.reports) for t in trials)
    assert trials.with_state(hpstudy.TrialState.PRUNED), "the fixture should prune some trials"
    assert sum(len(c.steps) for c in data.curves) == n_reports
    assert len(data.decisions) == sum(len(t.decisions) for t in trials)
    for t in trials.with_state(hpstudy.TrialState.PRUNED):
        stops = [c for c in data.curves if c.number == t.number and c.stopped_at is not None]
        assert stops, f"pruned trial {t.number} has no stopped curve"


def test_comparison_names_best_and_runner_up_in_words(report, stored):
    data = report["comparison"].data
    complete = sorted(stored[1].trials.complete, key=lambda t: -t.value)
    assert data.best[0] == complete[0].number and data.runner_up[0] == complete[1].number
    text = " ".join(data.sentences)
    assert f"Trial {complete[0].number} has the best mean accuracy" in text
    assert "with probability" in text and "winner's curse" in text
    by = data.bayes
    assert by.prob_a_better + by.prob_equivalent + by.prob_b_better == pytest.approx(1.0)


def test_settings_show_folds_fingerprint_and_status(report, stored):
    rows = dict(report["settings"].data.rows)
    assert rows["data fingerprint"].startswith(stored[1].folds.fingerprint()[:16])
    assert rows["folds"].startswith("4-fold cross-validation: 4 evaluations per trial")
    assert rows["status"].startswith("24 trials")
    assert rows["early stopping"].startswith("none")


def test_settings_name_the_stopper_seen_in_the_decisions(pruned):
    assert "hyperband" in dict(pruned[0]["settings"].data.rows)["early stopping"]


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
    assert rep["settings"].data.counts["failed"] == 4
    assert "4 failed" in dict(rep["settings"].data.rows)["status"]
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
    assert any("one evaluation per trial" in s for s in rep["comparison"].data.sentences)


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
    from hpstudy.report._settings import settings_section

    trials = hpstudy.Trials([hpstudy.Trial(number=0, params={"x": 1.0}, started_at=100.0)])
    fresh = StudyRecord(trials=trials, read_at=200.0, last_event_at=150.0)
    stale = StudyRecord(trials=trials, read_at=2000.0, last_event_at=150.0)
    assert "may have died" not in dict(settings_section(fresh).data.rows)["status"]
    assert "may have died" in dict(settings_section(stale).data.rows)["status"]


def test_curves_are_capped_keeping_stopped_trials_first(pruned):
    from hpstudy.report._data import curves_section

    trials = pruned[1].trials
    stopped = {t.number for t in trials if any(d.stop for d in t.decisions)}
    sec = curves_section(trials, limit=3)
    drawn = {c.number for c in sec.data.curves}
    assert len(drawn) == 3
    assert drawn <= stopped if len(stopped) >= 3 else stopped <= drawn
    assert "the 3 drawn" in sec.notes[0]


def test_params_have_every_space_parameter_and_the_pruned_trials(pruned):
    report, study = pruned
    p = report["params"].data
    trials = study.trials
    assert list(p.kinds) == ["model_name", "lr", "layers"]
    assert p.kinds == {"model_name": "categorical", "lr": "log", "layers": "linear"}
    drawn = [t for t in trials if t.state.value in ("complete", "pruned")]
    assert list(p.frame["state"]) == [t.state.value for t in drawn]
    np.testing.assert_allclose(p.frame["value"], [t.value for t in drawn])
    assert list(p.frame["layers"]) == [t.params["layers"] for t in drawn]
    n_pruned = sum(t.state is hpstudy.TrialState.PRUNED for t in drawn)
    assert f"{n_pruned} of the {len(drawn)} trials drawn were stopped early" in \
        report["params"].notes[0]


def test_a_parameter_with_one_value_among_the_trials_keeps_its_axis():
    from hpstudy.report._data import params_section
    from hpstudy.report._figures import _normalise

    done = hpstudy.TrialState.COMPLETE
    trials = hpstudy.Trials([hpstudy.Trial(number=i, params={"lr": lr, "layers": 2}, state=done,
                                           value=v)
                             for i, (lr, v) in enumerate([(0.1, 0.5), (0.01, 0.7)])])
    p = params_section(trials).data
    assert list(p.kinds) == ["lr", "layers"]
    pos, ticks = _normalise(p.frame["layers"], "linear", integer=True)
    assert list(pos) == [0.5, 0.5] and ticks == [(0.5, "2")]
    pos, ticks = _normalise(p.frame["lr"].rename("x").replace(0.01, 0.001), "log")
    assert list(pos) == [1.0, 0.0] and ticks[0] == (0.0, "0.001") and ticks[-1] == (1.0, "0.1")


def test_integer_axes_get_a_tick_per_value():
    import pandas as pd

    from hpstudy.report._figures import _normalise

    pos, ticks = _normalise(pd.Series([1, 4, 2]), "linear", integer=True)
    assert list(pos) == pytest.approx([0.0, 1.0, 1 / 3])
    assert [label for _, label in ticks] == ["1", "2", "3", "4"]


def test_spread_intervals_of_zero_width_are_said_not_estimable():
    from hpstudy.report import analyze_text
    from hpstudy.report._data import score_matrix

    study = rs.one_model(n_trials=8)  # value = x + 0.01 * fold: folds shift every trial alike
    s = score_matrix(study.trials).scores
    interaction = s - s.mean(1, keepdims=True) - s.mean(0, keepdims=True) + s.mean()
    assert np.abs(interaction).max() < 1e-12
    rep = build_report(study)
    spread = rep["decomposition"].data.within_models["all"]
    assert spread.sd_interval[1] - spread.sd_interval[0] < 1e-12  # what the stats give here
    assert any("could not be estimated" in n for n in rep["decomposition"].notes)
    text = analyze_text(rep)
    row = next(line for line in text.splitlines() if line.startswith("tuning within all"))
    assert row.count("could not be estimated") == 2
    assert f"{spread.sd:.4g} to {spread.sd:.4g}" not in text


def test_spread_intervals_of_real_width_are_shown(report):
    from hpstudy.report import analyze_text

    dec = report["decomposition"].data
    assert not any("could not be estimated" in n for n in report["decomposition"].notes)
    text = analyze_text(report)
    a = dec.across_models
    assert f"{a.sd_interval[0]:.4g} to {a.sd_interval[1]:.4g}" in text


def test_space_and_folds_are_described_in_words():
    from hpstudy.report._settings import _folds_text, _space_text

    assert _space_text({"distribution": "log_uniform_values", "min": 1e-5, "max": 0.1}) == \
        "log-uniform from 1e-05 to 0.1"
    assert _space_text({"distribution": "int_uniform", "min": 1, "max": 4}) == "integers from 1 to 4"
    assert _space_text({"distribution": "log_uniform", "min": -5, "max": 0}) == \
        "log-uniform from e^-5 to e^0"
    assert _space_text({"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25}) == \
        "uniform from 0 to 1, in steps of 0.25"
    describe = {"kind": "kfold", "n_splits": 5, "n_repeats": 2, "n_seeds": 1, "n_tasks": 10,
                "stratified": True, "groups": False, "splitter": "RepeatedStratifiedKFold"}
    assert _folds_text({"describe": describe}) == (
        "5-fold cross-validation, repeated 2 times: 10 evaluations per trial, stratified by "
        "class (kfold, scikit-learn RepeatedStratifiedKFold)")
