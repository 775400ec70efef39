"""Search, then confirm: the best configurations re-evaluated without pruning, resumable."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hpstudy
from hpstudy import ConfigError, Study, TrialState
from hpstudy.cli import main
from tests import _stopping_curves as curves

ROOT = Path(__file__).resolve().parents[1]
SWEEP = """\
method: random
metric: {name: acc, goal: maximize}
parameters:
  model_name: {values: [fast, slow]}
  q: {min: 0.0, max: 1.0}
early_terminate: {type: hyperband, min_iter: 3, eta: 3}
"""
OBJ = "tests._stopping_curves:objective"
FOLDS = "tests._stopping_curves:folds"


def search(path, n_trials=16, seed=1, folds=True):
    study = Study(curves.space(), metric="acc", storage=path, seed=seed,
                  early_terminate={"type": "hyperband", "min_iter": 3, "eta": 3},
                  folds=curves.folds() if folds else None)
    study.run(curves.objective, n_trials=n_trials)
    return study


def test_confirm_reevaluates_the_best_of_each_model_unpruned_on_the_same_folds(tmp_path):
    study = search(tmp_path / "s.db")
    before = study.trials
    # the situation of the issue: the slow-learning model ends best, but early stopping
    # left fewer than 2 of its configurations complete, so the search cannot compare models
    slow = [t for t in before if t.params["model_name"] == "slow"]
    assert sum(t.state is TrialState.COMPLETE for t in slow) < 2 < len(slow)
    with pytest.warns(UserWarning, match="model comparison refused"):
        assert hpstudy.analyze(before).decomposition is None
    phase = study.confirm(curves.objective, top=2, per_model="model_name", seeds=2)
    trials = phase.trials
    assert sorted(t.params["model_name"] for t in trials) == ["fast", "fast", "slow", "slow"]
    assert all(t.state is TrialState.COMPLETE and not t.decisions for t in trials)
    assert all(len(t.folds) == 3 * 2 for t in trials)  # 3 splits x 2 seeds
    # seed repeat 0 is the search's own fold seed: a configuration the search completed
    # scores the same on those tasks
    done = {tuple(sorted(t.params.items())): t for t in before if t.state is TrialState.COMPLETE}
    for t in trials:
        src = done.get(tuple(sorted(t.params.items())))
        if src is not None:
            assert [f.metrics["acc"] for f in t.folds if f.repeat == 0] == \
                [f.metrics["acc"] for f in src.folds]
    # the search study is untouched: same trials, and its file still reads as before
    assert list(Study.load(tmp_path / "s.db", folds=curves.folds()).trials) == list(before)
    # both models are compared on the balanced design
    result = hpstudy.analyze(trials)
    assert result.decomposition is not None
    assert set(result.decomposition.model_means) == {"fast", "slow"}
    # reopening the phase reads the same trials; confirming again runs nothing new
    assert list(Study.load_confirm(tmp_path / "s.db").trials) == list(trials)
    again = study.confirm(curves.objective, top=2, per_model="model_name", seeds=2)
    assert list(again.trials) == list(trials)


def test_confirm_refuses_other_settings_bad_parameters_and_seeds_without_folds(tmp_path):
    study = search(tmp_path / "s.db", n_trials=6)
    with pytest.raises(ConfigError, match="per_model: no parameter 'arch'"):
        study.confirm(curves.objective, top=1, per_model="arch")
    with pytest.raises(ConfigError, match="top: must be >= 1"):
        study.confirm(curves.objective, top=0)
    study.confirm(curves.objective, top=1)
    with pytest.raises(ConfigError, match="already holds a confirm phase"):
        study.confirm(curves.objective, top=2)
    plain = search(tmp_path / "p.db", n_trials=4, folds=False)
    with pytest.raises(ConfigError, match="seeds: seed repeats need folds"):
        plain.confirm(curves.objective, top=1, seeds=2)
    with pytest.raises(ConfigError, match="confirm needs a study stored in a file"):
        Study(curves.space(), metric="acc").confirm(curves.objective)


def test_select_ranks_complete_first_then_pruned_by_depth():
    from hpstudy.trials import Report, Trial

    def trial(n, state, value, depth, model="fast"):
        reports = tuple(Report(step=i, value=value, fold=0) for i in range(depth))
        return Trial(number=n, params={"model_name": model, "q": n / 10}, state=state,
                     value=value, reports=reports)

    trials = hpstudy.Trials([trial(0, TrialState.PRUNED, 0.9, 3),
                             trial(1, TrialState.COMPLETE, 0.5, 15),
                             trial(2, TrialState.PRUNED, 0.6, 9),
                             trial(3, TrialState.FAILED, None, 2),
                             trial(4, TrialState.COMPLETE, 0.7, 15, "slow")], metric="acc")
    study = Study(curves.space(), metric="acc")
    from hpstudy.study._confirm import select_configurations  # noqa: PLC0415 (internal rule)

    assert [n for n, _ in select_configurations(trials, 3)] == [4, 1, 2]
    per = select_configurations(trials, 1, per_model="model_name")
    assert [n for n, _ in per] == [1, 4]
    assert study.stopper is None


# ----------------------------------------------------------------- CLI, with a SIGKILL
def _confirm_events(db: Path) -> list[tuple[str, int]]:
    try:
        conn = sqlite3.connect(db, timeout=30)
        try:
            return conn.execute("SELECT kind, number FROM confirm_events ORDER BY id").fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:  # the table is not there yet
        return []


@pytest.mark.slow
def test_cli_confirm_end_to_end_resumes_after_sigkill(tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP)
    db = tmp_path / "s.db"
    assert main(["run", str(sweep), "--objective", OBJ, "--folds", FOLDS, "--storage", str(db),
                 "--trials", "12"]) == 0
    reference = tmp_path / "ref.db"
    with sqlite3.connect(db) as src, sqlite3.connect(reference) as dst:
        src.backup(dst)  # a plain copy would miss the events still in the WAL file
    args = ["--top", "2", "--per-model", "model_name", "--seeds", "2", "--folds", FOLDS]
    assert main(["confirm", str(reference), "--objective", OBJ, *args]) == 0
    expected = Study.load_confirm(reference).trials

    env = dict(os.environ, HPSTUDY_TEST_SLEEP="0.02", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "hpstudy.cli", "confirm", str(db), "--objective",
           "tests._stopping_curves:objective_slow", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:  # kill it inside the confirm phase: once trial 1 reported, before the phase ends
        while time.monotonic() < deadline:
            events = _confirm_events(db)
            if any(kind == "report" and number >= 1 for kind, number in events):
                break
            assert proc.poll() is None, "the confirm process ended before it was killed"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    killed = _confirm_events(db)
    assert ("trial_finished", 3) not in killed  # it died inside the phase
    assert main(["confirm", str(db), "--objective", OBJ, *args]) == 0
    trials = Study.load_confirm(db).trials
    assert [dict(t.params) for t in trials] == [dict(t.params) for t in expected]
    assert [t.value for t in trials] == pytest.approx([t.value for t in expected])
    assert all(t.state is TrialState.COMPLETE and len(t.folds) == 6 for t in trials)
    events = _confirm_events(db)
    assert sorted(n for k, n in events if k == "trial_created") == [0, 1, 2, 3]
    assert sorted(n for k, n in events if k == "trial_finished") == [0, 1, 2, 3]
