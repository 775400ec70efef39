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


def _search(db: Path, *, trials: int) -> Path:
    """``hpstudy run`` of SWEEP for ``trials`` trials into ``db`` (its sweep file beside it)."""
    sweep = db.parent / "sweep.yaml"
    sweep.write_text(SWEEP)
    assert main(["run", str(sweep), "--objective", OBJ, "--folds", FOLDS, "--storage", str(db),
                 "--trials", str(trials)]) == 0
    return db


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
    with pytest.warns(UserWarning, match="model_name='slow' has [01] complete configuration"):
        searched = hpstudy.analyze(before)  # 'slow' left out of the model comparison
    assert searched.decomposition is not None and searched.decomposition.model_kind == "absent"
    with pytest.raises(ConfigError, match="hpstudy confirm STUDY --per-model model_name"):
        hpstudy.analyze(before, model="model_name")  # named: refused
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
    db = _search(tmp_path / "s.db", trials=12)
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


# ----------------------------------------------------------------- report/analyze --phase
@pytest.mark.slow  # about 9 s: a search, its confirm phase, two HTML pages
def test_report_and_analyze_show_the_confirm_phase_and_the_search_points_to_it(tmp_path,
                                                                               capsys):
    import json

    db = _search(tmp_path / "s.db", trials=8)
    capsys.readouterr()
    # no confirm phase yet: the search's report says nothing of one; asking for it is rc 2
    assert main(["analyze", str(db), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["phase_note"] is None
    assert main(["analyze", str(db), "--phase", "confirm"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no confirm phase (run `hpstudy confirm" in err
    assert main(["confirm", str(db), "--objective", OBJ, "--folds", FOLDS, "--top", "2",
                 "--per-model", "model_name"]) == 0
    out = capsys.readouterr().out
    assert f"its report: hpstudy report {db} --phase confirm" in out
    phase = Study.load_confirm(db).trials
    assert len(phase) == 4
    # the search's analysis points to the confirm phase
    assert main(["analyze", str(db), "--format", "json"]) == 0
    search = json.loads(capsys.readouterr().out)
    assert search["phase"] == "search"
    assert "This file also holds a confirm phase: 4 of this search's best configurations" \
        in search["phase_note"]
    assert f"hpstudy report {db} --phase confirm" in search["phase_note"]
    # the confirm phase's analysis is of its own trials: balanced, unpruned, both models
    assert main(["analyze", str(db), "--phase", "confirm", "--format", "json"]) == 0
    confirm = json.loads(capsys.readouterr().out)
    assert confirm["phase"] == "confirm" and confirm["study"].endswith("(confirm)")
    assert "Confirm phase: the 2 best configurations of each value of 'model_name'" \
        in confirm["phase_note"]
    assert f"The search's own report: hpstudy report {db}." in confirm["phase_note"]
    top = confirm["sections"]["top"]["tables"][0]["rows"]
    assert sorted(int(r[1]) for r in top) == [t.number for t in phase]
    by_number = {t.number: t for t in phase}
    for row in top:  # the numbers are the confirm phase's, not the search's trials 0-3
        assert float(row[2]) == pytest.approx(by_number[int(row[1])].value, abs=5e-4)
    dec = confirm["sections"]["decomposition"]
    assert dec["available"], dec.get("reason")
    assert not any("left out" in n and "model levels dropped" in n for n in dec["notes"])
    assert main(["analyze", str(db), "--phase", "confirm"]) == 0  # text
    text = capsys.readouterr().out
    assert text.startswith("hpstudy analysis: ") and "Confirm phase:" in text.splitlines()[2]
    # HTML pages, each linking the other
    assert main(["report", str(db), "--phase", "confirm"]) == 0
    assert "(confirm phase)" in capsys.readouterr().out
    page = (tmp_path / "s.confirm.html").read_text(encoding="utf-8")
    assert "Confirm phase: the 2 best configurations" in page and 'href="./s.html"' in page
    assert main(["report", str(db)]) == 0
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert "also holds a confirm phase" in page and 'href="./s.confirm.html"' in page
    # compare: the confirm phases of several files side by side
    assert main(["compare", str(db), str(db), "--phase", "confirm"]) == 0
    assert "Best configuration of each study" in capsys.readouterr().out
    # reading either phase writes nothing to the study file (nor to its WAL)
    def files():
        return {p.name: p.read_bytes() for p in tmp_path.iterdir()
                if p.name.startswith("s.db") and not p.name.endswith("-shm")}

    before = files()
    assert main(["analyze", str(db), "--phase", "confirm", "--format", "md"]) == 0
    assert main(["analyze", str(db)]) == 0
    assert files() == before


@pytest.mark.parametrize("option, value, rule", [
    ("--top", "0", "must be between 1 and 1,000,000,000 (got 0)"),
    ("--top", str(10**12), "must be between 1 and 1,000,000,000"),
    ("--seeds", str(10**12), "must be between 1 and 1,000"),
    ("--seeds", "-1", "must be between 1 and 1,000 (got -1)"),
    ("--jobs", str(10**12), "must be between 1 and 1,024"),
    ("--seeds", "two", "must be an integer (got 'two')"),
])
def test_confirm_refuses_out_of_range_integers_in_one_line(cli_study, capsys, option, value,
                                                          rule):
    capsys.readouterr()
    rc = main(["confirm", str(cli_study), "--objective", OBJ, "--folds", FOLDS, option, value])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert f"argument {option}: {rule}" in err and "Traceback" not in err
    with pytest.raises(hpstudy.StorageError, match="holds no confirm phase"):
        Study.load_confirm(cli_study)  # nothing was started


@pytest.fixture(scope="module")
def cli_study(tmp_path_factory):
    """A small study made by `hpstudy run` (the CLI confirms only those)."""
    folder = tmp_path_factory.mktemp("cli_confirm")
    db = _search(folder / "s.db", trials=2)
    return db


def test_confirm_output_goes_through_the_escaping_output(tmp_path, capsys):
    # a hostile file name, printed in the confirm summary
    db = _search(tmp_path / "s\x1b[2J\u202e.db", trials=3)
    capsys.readouterr()
    assert main(["confirm", str(db), "--objective", OBJ, "--folds", FOLDS, "--top", "1"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "s\\x1b[2J\\u202e.db" in out and "its report: hpstudy report" in out


# ----------------------------------------------------------------- the confirm phase's storage
DATA = ROOT / "tests" / "data"


def _oracle_ok(trial) -> bool:
    """Every fold's value is the curve the objective reports for its parameters and seed."""
    return all(f.metrics["acc"] == curves.observed(dict(trial.params), f.fold, f.seed)[-1]
               for f in trial.folds)


def test_a_confirm_phase_written_by_an_earlier_version_reads_and_resumes(tmp_path):
    """tests/data/confirm_v1.sqlite: made by the code before the confirm phase moved into
    SQLiteStorage (tests/data/make_confirm_v1.py): its phase ran 1 of 2 configurations."""
    import hashlib

    from hpstudy.storage import SQLiteStorage

    db = tmp_path / "v1.db"
    db.write_bytes((DATA / "confirm_v1.sqlite").read_bytes())
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    # read-only: the old file reads as it is, and stays as it was
    old = Study.load_confirm(SQLiteStorage(db, read_only=True)).trials
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert [t.number for t in old] == [0]
    assert old[0].state is TrialState.COMPLETE and len(old[0].folds) == 3 and _oracle_ok(old[0])
    # resumed by today's code: the second configuration runs, under a lease and an epoch
    study = Study.load(db, folds=curves.folds())
    assert len(study.trials) == 6
    phase = study.confirm(curves.objective, top=1, per_model="model_name", seeds=1)
    trials = phase.trials
    notes = phase.annotations
    assert [dict(t.params) for t in trials] == [c["params"] for c in notes["configurations"]]
    assert sorted({t.params["model_name"] for t in trials}) == ["fast", "slow"]
    assert trials[0] == old[0]
    assert all(t.state is TrialState.COMPLETE and len(t.folds) == 3 and _oracle_ok(t)
               for t in trials)
    with sqlite3.connect(db) as conn:
        epochs = dict(conn.execute("SELECT number, max(epoch) FROM confirm_events "
                                   "GROUP BY number").fetchall())
        keys = {k for (k,) in conn.execute("SELECT key FROM meta")}
    assert epochs == {0: None, 1: 1}  # the old rows kept, the new ones with their epoch
    assert {"study", "confirm", "confirm.epoch"} <= keys and "confirm.lease" not in keys
    assert list(Study.load(db).trials) == list(study.trials)  # the search untouched
    again = study.confirm(curves.objective, top=1, per_model="model_name", seeds=1)
    assert list(again.trials) == list(trials)


def _meta_value(db: Path, key: str) -> str | None:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else row[0]


@pytest.mark.slow
def test_two_coordinators_cannot_run_the_confirm_phase_of_one_file_at_once(tmp_path, capsys):
    db = _search(tmp_path / "s.db", trials=5)
    args = ["--top", "1", "--per-model", "model_name", "--folds", FOLDS]
    env = dict(os.environ, HPSTUDY_TEST_SLEEP="0.2", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "hpstudy.cli", "confirm", str(db),
                             "--objective", "tests._stopping_curves:objective_slow", *args],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while _meta_value(db, "confirm.lease") is None:  # the first coordinator holds it
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the confirm phase never took its lease"
            time.sleep(0.01)
        capsys.readouterr()
        assert main(["confirm", str(db), "--objective", OBJ, *args]) == 2
        err = capsys.readouterr().err
        assert f"study is being run by PID {proc.pid}" in err and err.count("\n") == 1
        assert proc.poll() is None  # refused, the first one goes on
        assert _meta_value(db, "lease") is None  # the search's own lease is not taken
    finally:
        proc.kill()
        proc.wait(timeout=30)
    # the first one was killed: its lease is stale, and the phase resumes and completes
    assert main(["confirm", str(db), "--objective", OBJ, *args]) == 0
    trials = Study.load_confirm(db).trials
    assert len(trials) == 2 and all(t.state is TrialState.COMPLETE for t in trials)
    with sqlite3.connect(db) as conn:
        finished = conn.execute("SELECT number, count(*) FROM confirm_events WHERE "
                                "kind='trial_finished' GROUP BY number").fetchall()
    assert finished == [(0, 1), (1, 1)]
    assert int(_meta_value(db, "confirm.epoch") or 0) == 2


def test_the_confirm_namespace_has_the_rules_of_a_study_log(tmp_path):
    """Durable appends with duplicates refused and epochs, beside the search's own log."""
    from hpstudy.errors import DuplicateEventError
    from hpstudy.storage import EventKind, SQLiteStorage

    search = SQLiteStorage(tmp_path / "s.db")
    search.initialize({"format": 1, "name": "search"})
    phase = SQLiteStorage(tmp_path / "s.db", namespace="confirm")
    assert not phase.exists()
    phase.initialize({"format": 1, "name": "phase"})
    lease, _ = phase.acquire_lease()
    phase.append(EventKind.TRIAL_CREATED, 0, {"params": {"q": 0.5}, "seed": 1})
    with pytest.raises(DuplicateEventError):
        phase.append(EventKind.TRIAL_CREATED, 0, {"params": {"q": 0.5}, "seed": 1})
    assert [(e.number, e.epoch) for e in phase.read()] == [(0, lease.epoch)]
    assert search.read() == [] and search.lease() is None and phase.lease() == lease
    assert search.load_meta()["name"] == "search" and phase.load_meta()["name"] == "phase"
    reader = SQLiteStorage(tmp_path / "s.db", namespace="confirm", read_only=True)
    assert [e.number for e in reader.read()] == [0]
    phase.release_lease()
    assert phase.lease() is None
    for bad in ("Confirm", "study", "x-y", "", "1a"):
        with pytest.raises(ConfigError, match="namespace: must be"):
            SQLiteStorage(tmp_path / "s.db", namespace=bad)


def test_analyze_reads_the_confirm_phase_and_the_search_points_to_it_quick(tmp_path, capsys):
    """The fast check of --phase (the slow test above covers HTML, compare and writes)."""
    import json

    db = _search(tmp_path / "q.db", trials=3)
    assert main(["confirm", str(db), "--objective", OBJ, "--folds", FOLDS, "--top", "2"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(db), "--format", "json"]) == 0
    assert "holds a confirm phase: 2 of this search's best" in \
        json.loads(capsys.readouterr().out)["phase_note"]
    assert main(["analyze", str(db), "--format", "json", "--phase", "confirm"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["phase"] == "confirm"
    phase = Study.load_confirm(db).trials
    top = doc["sections"]["top"]["tables"][0]["rows"]
    assert sorted(int(r[1]) for r in top) == [t.number for t in phase]


@pytest.mark.slow
def test_confirm_on_worker_processes_writes_only_its_own_log(tmp_path):
    """The workers' storage keeps the namespace: their fold results land in the phase."""
    study = search(tmp_path / "s.db", n_trials=4)
    with sqlite3.connect(tmp_path / "s.db") as conn:
        before = conn.execute("SELECT count(*), max(id) FROM events").fetchone()
    phase = study.confirm(curves.objective, top=2, n_jobs=2)
    with sqlite3.connect(tmp_path / "s.db") as conn:
        after = conn.execute("SELECT count(*), max(id) FROM events").fetchone()
        folds = conn.execute("SELECT count(*) FROM confirm_events WHERE kind='fold_finished'"
                             ).fetchone()[0]
    assert after == before
    assert folds == 2 * 3
    assert all(t.state is TrialState.COMPLETE and _oracle_ok(t) for t in phase.trials)
