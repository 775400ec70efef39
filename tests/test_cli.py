"""The hpstudy command: run, status, export, resume, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hpstudy.cli import main

ROOT = Path(__file__).resolve().parents[1]

SWEEP = """
method: random
metric: {name: value, goal: maximize}
parameters:
  x: {distribution: uniform, min: 0.0, max: 1.0}
  k: {values: [1, 2, 3]}
"""


@pytest.fixture
def sweep(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP)
    return path


def test_run_status_export_resume(tmp_path, sweep, capsys):
    db = tmp_path / "s.db"
    code = main(["run", str(sweep), "--objective", "tests._objectives:quadratic",
                 "--storage", str(db), "--trials", "6", "--seed", "3"])
    assert code == 0
    assert "6 trials of 6 planned" in capsys.readouterr().out
    assert main(["status", str(db)]) == 0
    out = capsys.readouterr().out
    assert "6 complete" in out and "top 5 trials:" in out
    assert main(["resume", str(db), "--trials", "9", "--objective", "tests._objectives:quadratic"]) == 0
    capsys.readouterr()
    assert main(["export", str(db), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["number"] for r in rows] == list(range(9))
    assert all(r["state"] == "complete" for r in rows)
    out_csv = tmp_path / "t.csv"
    assert main(["export", str(db), "--format", "csv", "--output", str(out_csv)]) == 0
    header = out_csv.read_text().splitlines()[0].split(",")
    assert {"number", "state", "value", "params.x", "params.k"} <= set(header)


def test_bad_input_exits_2_with_the_message_on_stderr(tmp_path, sweep, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: random\nparameters:\n  lr: {distribution: log_uniform_values, min: 0, max: 1}\n")
    code = main(["run", str(bad), "--objective", "tests._objectives:quadratic",
                 "--storage", str(tmp_path / "b.db"), "--trials", "2"])
    assert code == 2
    assert "parameters.lr.min" in capsys.readouterr().err
    assert main(["run", str(sweep), "--objective", "nosuchmodule:f", "--storage",
                 str(tmp_path / "c.db"), "--trials", "2"]) == 2
    assert "nosuchmodule" in capsys.readouterr().err
    assert main(["status", str(tmp_path / "missing.db")]) == 2
    assert "no such file" in capsys.readouterr().err
    not_db = tmp_path / "text.db"
    not_db.write_text("hello")
    assert main(["status", str(not_db)]) == 2
    assert not (tmp_path / "b.db").exists()  # nothing created for a bad config


def test_console_script_runs_and_is_quiet_when_not_a_terminal(tmp_path, sweep):
    db = tmp_path / "s.db"
    exe = Path(sys.executable).with_name("hpstudy")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hpstudy.cli"]
    proc = subprocess.run(
        cmd + ["run", str(sweep), "--objective", "tests._objectives:quadratic",
               "--storage", str(db), "--trials", "3"],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar when not a terminal
    bad = subprocess.run(cmd + ["status", str(tmp_path / "nope.db")], capture_output=True, text=True)
    assert bad.returncode == 2 and "no such file" in bad.stderr


def test_status_works_while_a_study_runs(tmp_path, sweep):
    import time

    db = tmp_path / "live.db"
    env = dict(os.environ, PYTHONPATH=str(ROOT), HPSTUDY_TEST_SLEEP="0.3")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hpstudy.cli", "run", str(sweep), "--objective",
         "tests._objectives:slow_deterministic", "--storage", str(db), "--trials", "12"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        seen_running = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                out = subprocess.run([sys.executable, "-m", "hpstudy.cli", "status", str(db)],
                                     cwd=ROOT, env=env, capture_output=True, text=True)
                assert out.returncode == 0, out.stderr
                if "1 running" in out.stdout:
                    assert f"coordinator PID {proc.pid} on" in out.stdout
                    assert "is alive (heartbeat" in out.stdout
                    seen_running = True
                    break
            time.sleep(0.2)
        assert seen_running
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == 0, proc.stderr.read().decode()


EXACT_SWEEP = """
method: grid
metric: {name: value, goal: maximize}
parameters:
  k: {values: [1, 2.5]}
  big: {value: 9007199254740993}
  x: {values: [0.30000000000000004]}
"""

EXACT_OBJECTIVE = """
def objective(params, ctx):
    ctx.report(1, 0.1 + 0.2)
    ctx.report(2, 1e-300)
    return {"value": params["x"] if params["k"] == 1 else 1e-300, "tiny": 1e-300}
"""


@pytest.fixture
def exact_study(tmp_path):
    (tmp_path / "exact_objective.py").write_text(EXACT_OBJECTIVE)
    (tmp_path / "exact.yaml").write_text(EXACT_SWEEP)
    db = tmp_path / "exact.db"
    assert main(["run", str(tmp_path / "exact.yaml"), "--storage", str(db),
                 "--objective", f"{tmp_path / 'exact_objective.py'}:objective"]) == 0
    return db


def test_export_json_round_trips_every_value_exactly(exact_study, capsys) -> None:
    capsys.readouterr()
    assert main(["export", str(exact_study), "--format", "json", "--reports"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_k = {r["params.k"]: r for r in rows}
    assert type(by_k[1]["params.k"]) is int and by_k[2.5]["params.k"] == 2.5  # mixed column
    one = by_k[1]
    assert one["value"] == 0.1 + 0.2 and one["metrics.tiny"] == 1e-300
    assert one["params.big"] == 2**53 + 1 and type(one["params.big"]) is int
    assert by_k[2.5]["value"] == 1e-300
    assert [(r["step"], r["value"], r["fold"]) for r in one["reports"]] == [
        (1, 0.1 + 0.2, None), (2, 1e-300, None)]


def test_export_csv_round_trips_every_value_exactly(exact_study, tmp_path, capsys) -> None:
    import csv

    out = tmp_path / "t.csv"
    assert main(["export", str(exact_study), "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    by_k = {r["params.k"]: r for r in rows}
    assert set(by_k) == {"1", "2.5"}  # the int stays an int
    assert float(by_k["1"]["value"]) == 0.1 + 0.2
    assert float(by_k["1"]["metrics.tiny"]) == 1e-300 == float(by_k["2.5"]["value"])
    assert int(by_k["1"]["params.big"]) == 2**53 + 1
    assert by_k["1"]["error"] == ""
    reports = tmp_path / "r.csv"
    assert main(["export", str(exact_study), "--format", "csv", "--reports",
                 "--output", str(reports)]) == 0
    lines = list(csv.reader(reports.open()))
    assert lines[0] == ["trial", "fold", "step", "value"]
    assert [(int(t), f, int(s), float(v)) for t, f, s, v in lines[1:]] == [
        (n, "", step, value) for n in (0, 1) for step, value in ((1, 0.1 + 0.2), (2, 1e-300))]


def test_status_after_resume_with_more_trials(tmp_path, sweep, capsys) -> None:
    db = tmp_path / "s.db"
    assert main(["run", str(sweep), "--objective", "tests._objectives:quadratic",
                 "--storage", str(db), "--trials", "5"]) == 0
    assert "5 trials of 5 planned" in capsys.readouterr().out
    assert main(["resume", str(db), "--trials", "8", "--trust-stored-objective"]) == 0
    assert "8 trials of 8 planned" in capsys.readouterr().out
    assert main(["status", str(db)]) == 0
    out = capsys.readouterr().out
    assert "8 trials" in out and "of 5 planned" not in out


def test_status_says_when_the_coordinator_was_killed(tmp_path, sweep):
    import signal

    from tests._polling import event_kinds, wait_for

    db = tmp_path / "killed.db"
    # each trial sleeps 60 s, so the kill lands inside trial 0 whatever the machine's pace
    # (a fixed wait once let it land between two trials, with none running)
    env = dict(os.environ, PYTHONPATH=str(ROOT), HPSTUDY_TEST_SLEEP="60")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hpstudy.cli", "run", str(sweep), "--objective",
         "tests._objectives:slow_deterministic", "--storage", str(db), "--trials", "50"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: db.exists() and ("trial_created", 0) in event_kinds(db),
                 "trial 0 to start", timeout=60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    out = subprocess.run([sys.executable, "-m", "hpstudy.cli", "status", str(db)], cwd=ROOT,
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert f"WARNING: coordinator PID {proc.pid} on" in out.stdout
    assert "the 1 running trial(s) will be re-run on resume" in out.stdout
    assert "is gone (stale lease" in out.stdout
