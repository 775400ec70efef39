"""Hostile and broken input at the command line (issue 13, items 8, 13, 15, 16).

Every bad input is exit code 2 and one line on stderr starting with ``hpstudy``,
never a traceback; a study file's code is imported only by ``resume`` when the
user confirms it; what a study file holds is printed escaped.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hpstudy.cli
from hpstudy.cli import main

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))

SWEEP = """
method: random
metric: {name: value, goal: maximize}
parameters:
  x: {distribution: uniform, min: 0.0, max: 1.0}
  k: {values: [1, 2, 3]}
"""


def _one_error_line(err: str) -> str:
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hpstudy"), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def study_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small finished study (4 trials), copied by the tests that damage it."""
    folder = tmp_path_factory.mktemp("study")
    (folder / "sweep.yaml").write_text(SWEEP)
    db = folder / "s.db"
    assert main(["run", str(folder / "sweep.yaml"), "--objective", "tests._objectives:quadratic",
                 "--storage", str(db), "--trials", "4"]) == 0
    return db


@pytest.fixture
def study_copy(study_file: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.db"
    src, dst = sqlite3.connect(study_file), sqlite3.connect(target)
    src.backup(dst)  # the WAL's pages too (a file copy could miss them)
    src.close()
    dst.close()
    return target


# ----------------------------------------------------------------- run: bad code and config
def _module(tmp_path: Path, name: str, source: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return str(path)


RUN_CASES = {
    # name: (files {stem: source}, extra run arguments, words the message must hold)
    "objective raises on import": (
        {"raises_on_import": "raise RuntimeError('broken at import')\ndef f(p, c): return 1\n"},
        ["--objective", "{raises_on_import}:f"], ["--objective", "broken at import"]),
    "objective has a syntax error": (
        {"syntax_error": "def f(p, c) return 1\n"},
        ["--objective", "{syntax_error}:f"], ["--objective", "SyntaxError"]),
    "objective calls sys.exit on import": (
        {"exits_on_import": "import sys\nsys.exit(3)\n"},
        ["--objective", "{exits_on_import}:f"], ["--objective", "SystemExit"]),
    "objective is a relative module": ({}, ["--objective", "..:f"], ["--objective", "'..'"]),
    "objective function is not a name": (
        {}, ["--objective", "tests._objectives:1x"], ["--objective", "function name"]),
    "folds factory with the wrong signature": (
        {"folds_bad_signature": "def folds(n_splits): return None\n"},
        ["--objective", "tests._objectives:quadratic", "--folds", "{folds_bad_signature}:folds"],
        ["--folds", "TypeError"]),
    "folds factory returns a number": (
        {"folds_number": "def folds(): return 42\n"},
        ["--objective", "tests._objectives:quadratic", "--folds", "{folds_number}:folds"],
        ["--folds", "Folds", "int"]),
    "jobs 10**12": ({}, ["--objective", "tests._objectives:quadratic", "--jobs", str(10**12)],
                    ["--jobs", "1,024"]),
    "jobs not a number": ({}, ["--objective", "tests._objectives:quadratic", "--jobs", "many"],
                          ["--jobs", "integer"]),
    "negative trials": ({}, ["--objective", "tests._objectives:quadratic", "--trials", "-5"],
                        ["--trials", "-5"]),
    "negative seed": ({}, ["--objective", "tests._objectives:quadratic", "--seed", "-1"],
                      ["--seed"]),
}


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_run_with_bad_code_or_options_is_one_line_and_rc_2(case, tmp_path, sweep, capsys):
    files, extra, words = RUN_CASES[case]
    paths = {stem: _module(tmp_path, stem, source) for stem, source in files.items()}
    db = tmp_path / "s.db"
    argv = ["run", str(sweep), "--storage", str(db), *[a.format(**paths) for a in extra]]
    if "--trials" not in argv:
        argv += ["--trials", "2"]
    assert main(argv) == 2
    line = _one_error_line(capsys.readouterr().err)
    for word in words:
        assert word in line, line
    assert not db.exists()  # refused before anything was created


SWEEP_VALUES = {
    "a date": ("values: [2024-01-01, 2024-02-01]", "parameters.x.values[0]", "date"),
    "binary": ("values: [!!binary aGVsbG8=]", "parameters.x.values[0]", "binary"),
    "infinity": ("values: [.inf, 1]", "parameters.x.values[0]", "finite"),
    "a constant date": ("value: 2024-01-01", "parameters.x.value", "date"),
    "a nested infinity": ("values: [[1, .inf]]", "parameters.x.values[0][1]", "finite"),
}


@pytest.mark.parametrize("case", sorted(SWEEP_VALUES))
def test_sweep_values_the_study_cannot_store_are_refused(case, tmp_path, capsys):
    spec, key, word = SWEEP_VALUES[case]
    config = tmp_path / "sweep.yaml"
    config.write_text(f"method: random\nmetric: {{name: value, goal: maximize}}\n"
                      f"parameters:\n  x: {{{spec}}}\n")
    db = tmp_path / "s.db"
    assert main(["run", str(config), "--objective", "tests._objectives:quadratic",
                 "--storage", str(db), "--trials", "2"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert key in line and word in line, line
    assert not db.exists()


@pytest.mark.parametrize("values", [[float("inf")], [b"bytes"], [(1, 2)], [{1: "a"}],
                                    [object()]])
def test_python_api_refuses_unstorable_categorical_values(values):
    from hpstudy import ConfigError, SearchSpace
    from hpstudy.space import Categorical, Constant

    with pytest.raises(ConfigError, match=r"values\[0\]"):
        Categorical(values)
    with pytest.raises(ConfigError, match="value"):
        SearchSpace({"c": Constant(values[0])})


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "device", "directory", "too large"])
def test_a_config_that_is_no_regular_file_or_too_large_is_refused_unread(kind, tmp_path, capsys):
    from hpstudy.sweep import MAX_CONFIG_BYTES

    config = tmp_path / "sweep.yaml"
    if kind == "fifo":  # opening it would block until a writer comes: none will
        os.mkfifo(config)
    elif kind == "device":
        config = Path("/dev/zero")  # endless: read whole, it would fill the memory
    elif kind == "directory":
        config.mkdir()
    else:
        with open(config, "wb") as fh:
            fh.truncate(MAX_CONFIG_BYTES + 1)
    assert main(["run", str(config), "--objective", "tests._objectives:quadratic",
                 "--storage", str(tmp_path / "s.db"), "--trials", "2"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert ("not a regular file" in line) if kind != "too large" else ("10,000,000" in line)


def test_argparse_errors_are_one_line(capsys):
    assert main(["status"]) == 2
    assert "storage" in _one_error_line(capsys.readouterr().err)
    assert main(["status", "x.db", "--no-such-option"]) == 2
    assert "--no-such-option" in _one_error_line(capsys.readouterr().err)


# ---------------------------------------------------------------- reading damaged study files
def _damage(db: Path, sql: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(sql)
    conn.close()


DAMAGE = {
    "metadata not JSON": "UPDATE meta SET value='{not json' WHERE key='study'",
    "metadata a JSON list": "UPDATE meta SET value='[1, 2]' WHERE key='study'",
    "metadata without metric": "UPDATE meta SET value='{\"space\": {}}' WHERE key='study'",
    "event payload not JSON": "UPDATE events SET payload='garbage' WHERE id=2",
    "event payload a list": "UPDATE events SET payload='[]' WHERE id=2",
    "event kind unknown": "UPDATE events SET kind='no_such_kind' WHERE id=2",
}


@pytest.mark.parametrize("command", ["status", "export", "resume", "run"])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_corrupt_study_rows_are_one_line_and_rc_2(damage, command, study_copy, capsys):
    _damage(study_copy, DAMAGE[damage])
    argv = [command, str(study_copy)]
    if command in ("resume", "run"):
        argv += ["--objective", "tests._objectives:quadratic", "--trials", "6"]
    if command == "run":  # continuing the study in the damaged file
        config = study_copy.with_suffix(".yaml")
        config.write_text(SWEEP)
        argv = ["run", str(config), "--storage", str(study_copy), *argv[2:]]
    assert main(argv) == 2
    _one_error_line(capsys.readouterr().err)


# ----------------------------------------------------------------------------- export output
def _read_only(path: str):
    real_open = open

    def fake_open(file, *args, **kwargs):
        if os.fspath(file) == path:
            raise OSError(errno.EROFS, "Read-only file system", path)
        return real_open(file, *args, **kwargs)
    return fake_open


@pytest.mark.parametrize("where", ["a directory", "a missing folder", "/dev/full", "read-only"])
def test_export_output_errors_are_one_line_and_rc_2(where, study_file, tmp_path, monkeypatch,
                                                    capsys):
    output = {"a directory": str(tmp_path), "a missing folder": str(tmp_path / "no" / "t.csv"),
              "/dev/full": "/dev/full", "read-only": str(tmp_path / "t.csv")}[where]
    if where == "/dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    if where == "read-only":
        monkeypatch.setattr(hpstudy.cli._output, "open", _read_only(output), raising=False)
    assert main(["export", str(study_file), "--output", output]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--output" in line
    assert where != "read-only" or not os.path.exists(output)


# -------------------------------------------------------------- broken pipe and interruption
def test_status_into_a_closed_pipe_exits_quietly(study_file):
    proc = subprocess.Popen([sys.executable, "-m", "hpstudy.cli", "status", str(study_file)],
                            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader went away (`| head -1` after its line) before any write
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


@pytest.mark.timeout(180)
def test_ctrl_c_is_one_line_and_rc_130(tmp_path, sweep):
    db = tmp_path / "s.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hpstudy.cli", "run", str(sweep), "--objective",
         "tests._objectives:slow_deterministic", "--storage", str(db), "--trials", "200"],
        cwd=ROOT, env=dict(ENV, HPSTUDY_TEST_SLEEP="0.2"), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _trials_in(db) < 2:  # a trial has run, one runs
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 130, err
    # the graceful stop acknowledges the signal, then says what it kept: hpstudy's own
    # lines only, never a traceback
    lines = err.strip("\n").splitlines()
    assert "Traceback" not in err and lines and all(x.startswith("hpstudy") for x in lines), err
    assert len(lines) <= 2, err
    assert "interrupted" in lines[-1] and "hpstudy resume" in lines[-1], err


def _trials_in(db: Path) -> int:
    """Trials created in the study file so far (0 while it does not exist)."""
    import sqlite3

    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute("SELECT COUNT(*) FROM events WHERE kind='trial_created'").fetchone()[0]
    except sqlite3.Error:
        return 0


# ------------------------------------------------------------------ item 15: code in the file
EVIL = """
import pathlib
pathlib.Path({marker!r}).write_text("imported")

def objective(params, ctx):
    return params["x"]
"""


@pytest.fixture
def marked_study(tmp_path, sweep):
    """A study whose stored objective writes a marker file when it is imported."""
    marker = tmp_path / "imported.txt"
    code = tmp_path / "marked_objective.py"
    code.write_text(EVIL.format(marker=str(marker)))
    db = tmp_path / "marked.db"
    proc = subprocess.run([sys.executable, "-m", "hpstudy.cli", "run", str(sweep), "--objective",
                           f"{code}:objective", "--storage", str(db), "--trials", "2"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert marker.exists()
    marker.unlink()
    return db, marker, f"{code}:objective"


def _hpstudy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hpstudy.cli", *args], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=300)


def test_reading_commands_never_import_the_stored_objective(marked_study, tmp_path, capsys):
    db, marker, _ = marked_study
    for args in (["status", str(db)], ["export", str(db)], ["check", str(db)],
                 ["report", str(db), "-o", str(tmp_path / "r.html")],
                 ["analyze", str(db)], ["compare", str(db), str(db)]):
        assert main(args) == 0, (args, capsys.readouterr().err)
        assert not marker.exists() and "marked_objective" not in sys.modules, args


def test_resume_runs_stored_code_only_when_confirmed(marked_study):
    db, marker, spec = marked_study
    refused = _hpstudy("resume", str(db), "--trials", "3")
    assert refused.returncode == 2
    line = _one_error_line(refused.stderr)
    assert "--trust-stored-objective" in line and spec in line
    assert not marker.exists()
    trusted = _hpstudy("resume", str(db), "--trials", "3", "--trust-stored-objective")
    assert trusted.returncode == 0, trusted.stderr
    assert marker.exists()
    marker.unlink()
    confirmed = _hpstudy("resume", str(db), "--trials", "4", "--objective", spec)
    assert confirmed.returncode == 0, confirmed.stderr
    assert marker.exists() and confirmed.stderr == ""


def test_resume_records_the_new_plan(study_copy, capsys):
    assert main(["resume", str(study_copy), "--trials", "6",
                 "--objective", "tests._objectives:quadratic"]) == 0
    capsys.readouterr()
    assert main(["status", str(study_copy)]) == 0
    assert "6 trials of 6 planned" in capsys.readouterr().out


def test_resume_help_says_it_runs_code(capsys):
    assert main(["resume", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "SECURITY" in text and "runs their code" in text and "--trust-stored-objective" in text


# ------------------------------------------------------------ item 16: hostile names, CSV cells
HOSTILE_SWEEP = """
method: grid
metric: {name: "acc\\e[31m", goal: maximize}
parameters:
  "lr\\e]0;owned\\a": {values: ["=HYPERLINK(\\"http://x\\")", "+1", "-2", "@SUM(A1)", "\\e[2J",
                          "\\tcmd"]}
  neg: {values: [-1.5, -3]}
"""

HOSTILE_OBJECTIVE = """
def objective(params, ctx):
    return {"acc\\x1b[31m": 1.0, "-bad": -2.0}
"""


@pytest.fixture(scope="module")
def hostile_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "hostile.yaml").write_text(HOSTILE_SWEEP)
    (folder / "hostile_objective.py").write_text(HOSTILE_OBJECTIVE)
    db = folder / "hostile.db"
    assert main(["run", str(folder / "hostile.yaml"), "--storage", str(db),
                 "--objective", f"{folder / 'hostile_objective.py'}:objective"]) == 0
    return db


def test_status_escapes_control_characters(hostile_study, capsys):
    capsys.readouterr()
    assert main(["status", str(hostile_study)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31m" in out  # the name is shown, escaped


def test_csv_export_quotes_formulas_and_keeps_numbers(hostile_study, tmp_path, capsys):
    out = tmp_path / "t.csv"
    assert main(["export", str(hostile_study), "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open(newline="")))
    lr = next(k for k in rows[0] if k.startswith("params.lr"))
    cells = {r[lr] for r in rows}
    assert cells == {"'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "\x1b[2J", "'\tcmd"}
    assert {float(r["params.neg"]) for r in rows} == {-1.5, -3.0}  # numbers stay numbers
    assert {r["metrics.-bad"] for r in rows} == {"-2.0"}
    capsys.readouterr()
    assert main(["export", str(hostile_study), "--format", "json"]) == 0
    values = {r[lr] for r in json.loads(capsys.readouterr().out)}
    assert "=HYPERLINK(\"http://x\")" in values  # JSON is exact: no quoting there


# ------------------------------------------------------------- item 13: linear parsing, limits
@pytest.mark.timeout(20)  # quadratic de-duplication took 30-75 s here; linear takes ~0.1 s
@pytest.mark.parametrize("kind", ["strings", "numbers"])
def test_ten_thousand_values_parse_in_linear_time(kind):
    from benchmarks.bench_parse import values_text
    from hpstudy.sweep import Sweep

    sweep = Sweep.from_text(values_text(10_000, kind))
    dim = sweep.space["c"]
    assert len(dim.values) == 10_000 and len(dim.grid()) == 10_000
    assert dim.index(dim.values[-1]) == 9_999


def test_repeated_values_keep_their_weights_and_first_order():
    from hpstudy.space import Categorical

    dim = Categorical(["b", "a", "b", 1, 1.0, True, [1], [1.0]] * 3)
    assert dim.grid() == ["b", "a", 1, True, [1]]
    assert dim.probabilities == pytest.approx([2 / 8, 1 / 8, 2 / 8, 1 / 8, 2 / 8])
    assert dim.index(1.0) == dim.index(1) != dim.index(True)


@pytest.mark.parametrize("what", ["values", "parameters", "text"])
def test_size_limits_are_clear_errors(what):
    from hpstudy import ConfigError
    from hpstudy.sweep import MAX_CONFIG_BYTES, MAX_PARAMETERS, MAX_VALUES, Sweep

    if what == "values":
        config = {"method": "random", "parameters": {"c": {"values": list(range(MAX_VALUES + 1))}}}
        with pytest.raises(ConfigError, match=r"parameters\.c\.values: at most 100,000"):
            Sweep.from_dict(config)
    elif what == "parameters":
        params = {f"p{i}": {"value": 1} for i in range(MAX_PARAMETERS + 1)}
        with pytest.raises(ConfigError, match="at most 10,000 parameters"):
            Sweep.from_dict({"method": "random", "parameters": params})
    else:
        with pytest.raises(ConfigError, match="at most 10,000,000 characters"):
            Sweep.from_text(" " * (MAX_CONFIG_BYTES + 1))


def test_error_lines_escape_control_characters(tmp_path, sweep, capsys):
    code = _module(tmp_path, "escape_on_import", "raise RuntimeError('\\x1b[2J\\ngone')\n")
    assert main(["run", str(sweep), "--objective", f"{code}:f", "--storage",
                 str(tmp_path / "s.db"), "--trials", "2"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "\x1b" not in line and "RuntimeError: \\x1b[2J | gone" in line


def test_check_reports_a_sound_and_a_damaged_file(study_copy, capsys):
    capsys.readouterr()
    assert main(["check", str(study_copy)]) == 0
    assert "ok" in capsys.readouterr().out
    _damage(study_copy, DAMAGE["event payload not JSON"])
    assert main(["check", str(study_copy)]) == 2
    assert "problem" in _one_error_line(capsys.readouterr().err)


# ------------------------------------------------------------ the Python API's bad input
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"folds": 42}, r"folds: must be hpstudy Folds .*\(got int\)"),
    ({"annotations": {"a": object()}}, r"annotations: must be JSON-able"),
    ({"annotations": {"a": float("nan")}}, r"annotations: must be JSON-able"),
])
def test_study_refuses_bad_settings_before_creating_anything(tmp_path, kwargs, match):
    import hpstudy

    path = tmp_path / "s.db"
    with pytest.raises(hpstudy.ConfigError, match=match):
        hpstudy.Study(hpstudy.SearchSpace({"x": hpstudy.Real(0, 1)}), storage=path, **kwargs)
    assert not path.exists()


def test_run_refuses_an_absurd_number_of_jobs(tmp_path):
    import hpstudy

    study = hpstudy.Study(hpstudy.SearchSpace({"x": hpstudy.Real(0, 1)}), storage=tmp_path / "j.db")
    with pytest.raises(hpstudy.ConfigError, match=r"n_jobs: must be <= 1024"):
        study.run(lambda p, c: 1.0, n_trials=1, n_jobs=10**12)
