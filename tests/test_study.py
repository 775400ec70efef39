"""The study loop: objectives, failures, budgets, folds, pruning, parallel runs."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

import hpstudy
from hpstudy import ConfigError, StopDecision, Study, TrialState
from tests import _objectives as obj


def space_x():
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


def test_random_study_finds_the_maximum_region():
    study = Study(space_x(), seed=3)
    trials = study.run(obj.quadratic, n_trials=60)
    assert len(trials) == 60
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert abs(study.best_trial.params["x"] - 0.3) < 0.05
    assert study.best_trial.value == max(t.value for t in trials)


def test_minimize_goal_picks_the_lowest():
    study = Study(space_x(), goal="minimize", seed=0)
    trials = study.run(obj.quadratic, n_trials=10)
    assert study.best_trial.value == min(t.value for t in trials)


def test_dict_metrics_and_missing_primary_metric():
    study = Study(space_x(), metric="score", seed=0)
    trials = study.run(obj.quadratic_with_metrics, n_trials=3)
    assert set(trials[0].metrics) == {"score", "aux"}
    assert trials[0].value == trials[0].metrics["score"]
    other = Study(space_x(), metric="accuracy", seed=0)
    bad = other.run(obj.quadratic_with_metrics, n_trials=2)
    assert all(t.state is TrialState.FAILED for t in bad)
    assert "no 'accuracy'" in bad[0].error


def test_bad_trials_are_recorded_failed_and_the_study_goes_on():
    study = Study(space_x(), seed=0)
    trials = study.run(obj.sometimes_bad, n_trials=10)
    states = [t.state for t in trials]
    assert states.count(TrialState.COMPLETE) == 2
    assert states.count(TrialState.FAILED) == 8
    errors = {t.number % 5: t.error for t in trials if t.error}
    assert "RuntimeError: boom" in errors[1]
    assert "nan" in errors[2]
    assert "str" in errors[3]
    assert "inf" in errors[4]
    assert study.best_trial.state is TrialState.COMPLETE


def test_same_seed_same_suggestions_and_trial_seeds():
    a = Study(space_x(), seed=7).run(obj.quadratic, n_trials=8)
    b = Study(space_x(), seed=7).run(obj.quadratic, n_trials=8)
    c = Study(space_x(), seed=8).run(obj.quadratic, n_trials=8)
    assert [t.params for t in a] == [t.params for t in b]
    assert [t.seed for t in a] == [t.seed for t in b]
    assert [t.params for t in a] != [t.params for t in c]


def test_run_cap_and_target():
    capped = Study(space_x(), seed=0, run_cap=5)
    assert len(capped.run(obj.quadratic, n_trials=50)) == 5
    assert len(capped.run(obj.quadratic, n_trials=50)) == 5  # the cap is for the study
    hit = Study(space_x(), seed=0, target=-0.01)
    trials = hit.run(obj.quadratic, n_trials=500)
    assert trials.best().value >= -0.01
    assert len(trials) < 500
    assert all(t.value < -0.01 for t in trials[:-1])  # stopped right after the first hit


def test_grid_search_is_exhaustive_and_ends():
    space = hpstudy.SearchSpace({"x": hpstudy.Categorical([0.1, 0.3, 0.5]),
                                 "y": hpstudy.Categorical(["a", "b"])})
    study = Study(space, optimizer="grid")
    trials = study.run(obj.quadratic)
    assert len(trials) == 6
    assert {(t.params["x"], t.params["y"]) for t in trials} == {
        (x, y) for x in (0.1, 0.3, 0.5) for y in "ab"}
    assert len(study.run(obj.quadratic, n_trials=3)) == 6


def test_grid_refuses_continuous_dimensions():
    # refused when the study is made, before anything is stored (hardening item 11)
    with pytest.raises(ConfigError, match="x"):
        Study(space_x(), optimizer="grid")


@attrs.frozen
class StopBelowHalfAtStep3:
    def decide(self, trial, trials):
        report = trial.reports[-1]
        if report.step != 3:
            return None
        return StopDecision(step=report.step, stop=report.value < 0.4, rule="test",
                            value=report.value, threshold=0.4)


def test_report_and_stopper_prune_with_the_last_value():
    study = Study(space_x(), stopper=StopBelowHalfAtStep3(), seed=2)
    trials = study.run(obj.reporting, n_trials=20)
    pruned = trials.with_state(TrialState.PRUNED)
    complete = trials.complete
    assert len(pruned) > 0 and len(complete) > 0
    for t in pruned:
        assert len(t.reports) == 3
        assert t.value == t.reports[-1].value < 0.4
        assert t.decisions[-1].stop and t.decisions[-1].threshold == 0.4
    for t in complete:
        assert len(t.reports) == 10 and not t.decisions[-1].stop


def test_invalid_arguments_name_the_key():
    with pytest.raises(ConfigError, match="goal"):
        Study(space_x(), goal="up")
    with pytest.raises(ConfigError, match="seed"):
        Study(space_x(), seed=-1)
    with pytest.raises(ConfigError, match="space"):
        Study({"x": 1})
    with pytest.raises(ConfigError, match="optimizer"):
        Study(space_x(), optimizer="simulated_annealing")
    with pytest.raises(ConfigError, match="n_jobs"):
        Study(space_x()).run(obj.quadratic, n_trials=1, n_jobs=0)
    with pytest.raises(ConfigError, match="storage"):
        Study(space_x()).run(obj.quadratic, n_trials=2, n_jobs=2)


def test_changed_space_is_refused_on_the_same_storage(tmp_path):
    path = tmp_path / "s.db"
    Study(space_x(), storage=path).run(obj.quadratic, n_trials=2)
    other = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 2.0)})
    with pytest.raises(ConfigError, match="space: differs"):
        Study(other, storage=path)
    with pytest.raises(ConfigError, match="goal: differs"):
        Study(space_x(), storage=path, goal="minimize")
    again = Study(space_x(), storage=path)
    assert len(again.trials) == 2


def test_process_pool_runs_and_records_everything(tmp_path):
    study = Study(space_x(), storage=tmp_path / "p.db", seed=1, stopper=StopBelowHalfAtStep3())
    trials = study.run(obj.reporting, n_trials=8, n_jobs=2)
    assert len(trials) == 8
    assert all(t.state.is_finished() for t in trials)
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    reloaded = Study.load(tmp_path / "p.db", stopper=StopBelowHalfAtStep3())
    assert [t.value for t in reloaded.trials] == [t.value for t in trials]


def test_a_dying_worker_fails_its_trial_and_the_study_goes_on(tmp_path):
    study = Study(space_x(), storage=tmp_path / "d.db", seed=1)
    trials = study.run(obj.dies, n_trials=4, n_jobs=2)
    assert len(trials) == 4
    assert trials[1].state is TrialState.FAILED
    assert "worker died" in trials[1].error
    assert len(trials.complete) >= 2


def test_to_frame_has_params_and_metrics_columns():
    study = Study(space_x(), metric="score", seed=0)
    frame = study.run(obj.quadratic_with_metrics, n_trials=4).to_frame()
    assert list(frame["number"]) == [0, 1, 2, 3]
    assert {"params.x", "metrics.score", "metrics.aux", "state", "value"} <= set(frame.columns)
    assert np.allclose(frame["value"], frame["metrics.score"])


def test_folds_run_one_task_each_and_average(tmp_path):
    from hpstudy import evaluation

    folds = evaluation.kfold(50, n_splits=5, seed=0)
    study = Study(space_x(), folds=folds, storage=tmp_path / "f.db", seed=0)
    trials = study.run(obj.fold_mean, n_trials=3)
    for t in trials:
        assert [f.fold for f in t.folds] == [0, 1, 2, 3, 4]
        assert [f.seed for f in t.folds] == [f.seed for f in folds]  # paired: same seeds
        assert t.value == pytest.approx(t.params["x"] + 2.0)  # mean of x + 0..4
    frame = trials.to_frame(folds=True)
    assert len(frame) == 15 and set(frame["fold"]) == set(range(5))
    other = evaluation.kfold(50, n_splits=5, seed=1)
    with pytest.raises(ConfigError, match="folds: differs"):
        Study(space_x(), folds=other, storage=tmp_path / "f.db", seed=0)
    reading = Study.load(tmp_path / "f.db")  # reading needs no folds (issue 12); running does
    with pytest.raises(ConfigError, match="folds"):
        reading.run(obj.quadratic, n_trials=1)
    assert len(Study.load(tmp_path / "f.db", folds=folds).trials) == 3


def test_sweep_with_hyperband_prunes_and_records_brackets():
    sweep = {
        "method": "random",
        "metric": {"name": "value", "goal": "maximize"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 3},
    }
    study = Study.from_sweep(sweep, seed=4)
    trials = study.run(obj.reporting, n_trials=30)
    pruned = trials.with_state(TrialState.PRUNED)
    assert len(pruned) > 0 and len(trials.complete) > 0
    for t in pruned:
        last = t.decisions[-1]
        assert last.stop and last.rule.startswith("hyperband") and last.bracket is not None
        assert last.value < last.threshold
    best_complete = max(t.value for t in trials.complete)
    assert all(t.value <= best_complete for t in pruned)


def test_sweep_without_metric_maximises_value():
    sweep = {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    study = Study.from_sweep(sweep, seed=0)
    assert study.metric == "value" and study.goal is hpstudy.Goal.MAXIMIZE
    assert len(study.run(obj.quadratic, n_trials=3).complete) == 3


def test_seed_sweep_file_runs(tmp_path):
    from pathlib import Path

    seed = Path(__file__).resolve().parents[1] / "examples" / "sweeps" / "seed.yaml"
    study = Study.from_sweep(seed, optimizer="random", storage=tmp_path / "seed.db")
    assert study.metric == "val_accuracy" and study.stopper is not None
    trials = study.run(lambda p, ctx: p["dropout"], n_trials=4)
    assert {"model_name", "learning_rate", "epochs"} <= set(trials[0].params)


def test_folds_on_a_process_pool(tmp_path):
    from hpstudy import evaluation

    folds = evaluation.kfold(20, n_splits=4, seed=0)
    study = Study(space_x(), folds=folds, storage=tmp_path / "pf.db", seed=0)
    trials = study.run(obj.fold_mean, n_trials=5, n_jobs=2)
    assert len(trials) == 5
    for t in trials:
        assert t.state is TrialState.COMPLETE and len(t.folds) == 4
        assert t.value == pytest.approx(t.params["x"] + 1.5)


def test_unpicklable_objective_is_refused_before_any_trial_for_parallel_runs(tmp_path):
    study = Study(space_x(), storage=tmp_path / "u.db")
    with pytest.raises(ConfigError, match="objective: must be picklable"):
        study.run(lambda p, ctx: p["x"], n_trials=2, n_jobs=2)
    assert len(study.trials) == 0


def test_a_worker_that_recorded_its_result_then_died_keeps_its_result():
    import concurrent.futures as cf

    from hpstudy import evaluation
    from hpstudy.study._execution import TaskOutcome, record_outcome
    from hpstudy.study._runner import Runner

    study = Study(space_x(), seed=0, folds=evaluation.kfold(10, n_splits=2, seed=0))
    runner = Runner(study, obj.fold_mean, 1, None, 1, None, False)
    runner.create(1)
    task = runner.queue.popleft()
    record_outcome(task, TaskOutcome(number=0, fold=0, state=TrialState.COMPLETE,
                                     metrics={"value": 0.5}, error=None, duration=0.1))
    future = cf.Future()
    future.set_exception(RuntimeError("connection lost after the result was written"))
    runner.collect(future, task)
    # fold 0 is complete, as its worker wrote: the trial waits for fold 1, not FAILED
    assert study.trials[0].state is TrialState.RUNNING
    assert study.trials[0].folds[0].state is TrialState.COMPLETE
