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
    assert "complete 6" in out and "best: trial" in out
    assert main(["resume", str(db), "--trials", "9"]) == 0
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
                if "running 1" in out.stdout:
                    seen_running = True
                    break
            time.sleep(0.2)
        assert seen_running
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == 0, proc.stderr.read().decode()
