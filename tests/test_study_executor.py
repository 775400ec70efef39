"""Executors: the study keeps as many tasks in flight as the executor runs; threads work."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import threading

import pytest

import hpstudy
from hpstudy import ConfigError, Study, TrialState
from hpstudy.evaluation import kfold
from hpstudy.storage import EventKind
from tests import _objectives as obj


def space_x():
    return hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})


def test_a_thread_pool_runs_as_many_trials_at_once_as_it_has_threads(tmp_path):
    """Each trial waits at a barrier of 4: the run succeeds only with 4 tasks in flight
    together, on one SQLite storage object shared by the threads, with a stopper judging."""
    barrier = threading.Barrier(4, timeout=30)

    def objective(params, ctx):  # a closure: threads need no pickling
        barrier.wait()
        for step in range(1, 4):
            ctx.report(step, params["x"] * step)
        return params["x"]

    study = Study(space_x(), storage=tmp_path / "t.db", seed=0,
                  early_terminate={"type": "hyperband", "min_iter": 1, "eta": 2})
    with cf.ThreadPoolExecutor(max_workers=4) as pool:
        trials = study.run(objective, n_trials=8, executor=pool)
    assert len(trials) == 8
    assert all(t.state is not TrialState.FAILED for t in trials), [t.error for t in trials]
    assert all(len(t.decisions) == len(t.reports) > 0 for t in trials)  # the stopper judged
    reports = [e for e in study.storage.read() if e.kind is EventKind.REPORT]
    assert len(reports) == sum(len(t.reports) for t in trials)  # each recorded once


def test_a_thread_pool_with_folds(tmp_path):
    folds = kfold(20, n_splits=4, seed=0)
    study = Study(space_x(), folds=folds, storage=tmp_path / "f.db", seed=0)
    with cf.ThreadPoolExecutor(max_workers=3) as pool:
        trials = study.run(obj.fold_mean, n_trials=5, executor=pool)
    assert all(t.state is TrialState.COMPLETE and len(t.folds) == 4 for t in trials)
    assert all(t.value == pytest.approx(t.params["x"] + 1.5) for t in trials)


class SubmitOnly(cf.Executor):
    """An executor that does not say how many tasks it runs at once (as Dask's)."""

    def submit(self, fn, /, *args, **kwargs):
        future: cf.Future = cf.Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_the_executors_width_is_used_unless_n_jobs_says_otherwise(tmp_path):
    from hpstudy.study import _execution  # internal: the rule itself

    with cf.ThreadPoolExecutor(max_workers=5) as threads:
        assert _execution.executor_width(threads, None) == 5
        assert _execution.executor_width(threads, 2) == 2
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as processes:
        assert _execution.executor_width(processes, None) == 3
    with pytest.raises(ConfigError, match="n_jobs: required with executor=SubmitOnly"):
        _execution.executor_width(SubmitOnly(), None)
    study = Study(space_x(), storage=tmp_path / "w.db", seed=0)
    with pytest.raises(ConfigError, match="n_jobs"):
        study.run(obj.quadratic, n_trials=2, executor=SubmitOnly())
    assert len(study.run(obj.quadratic, n_trials=2, executor=SubmitOnly(), n_jobs=2)) == 2


def test_an_executor_needs_a_shared_storage():
    with cf.ThreadPoolExecutor(max_workers=2) as pool, \
            pytest.raises(ConfigError, match="storage: parallel runs need"):
        Study(space_x()).run(obj.quadratic, n_trials=2, executor=pool)


@pytest.mark.slow
def test_a_process_pool_executor_runs_as_many_trials_at_once_as_it_has_workers(tmp_path,
                                                                                monkeypatch):
    folder = tmp_path / "rendezvous"
    folder.mkdir()
    monkeypatch.setenv("HPSTUDY_TEST_RENDEZVOUS", str(folder))
    study = Study(space_x(), storage=tmp_path / "p.db", seed=0)
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=4, mp_context=ctx) as pool:
        trials = study.run(obj.wait_for_company, n_trials=8, executor=pool)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 8, [t.error for t in trials]
