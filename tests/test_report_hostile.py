"""Hostile names in a study file never reach the terminal raw (issue 13, item 16 leftovers).

A parameter name, categorical values, the metric's name and an error message hold
terminal control sequences (clear screen, carriage return, bell, C1 CSI, bidirectional
overrides, a line separator). ``analyze`` (text, Markdown, JSON), ``compare``, ``status``
and the progress line print them escaped, the way ``status`` always has; JSON stays valid
and keeps the exact strings.
"""

from __future__ import annotations

import json

import pytest

import hpstudy
from hpstudy.cli import main
from hpstudy.evaluation import kfold
from hpstudy.report import (
    analyze_text,
    json_printable,
    printable,
    progress_line,
    status_text,
)

CLEAR, CR, BELL, CSI, RLO, ISOLATE, LSEP = "\x1b[2J", "\r", "\x07", "\x9b", "\u202e", "\u2066", \
    "\u2028"
HOSTILE = (CLEAR, CR, BELL, CSI, RLO, ISOLATE, LSEP)
PARAM = f"lr{CLEAR}"
VALUES = (f"wide{CR}narrow", f"deep{RLO}peed", f"tiny{BELL}{CSI}1m")
METRIC = f"acc{ISOLATE}{LSEP}"
ERROR = f"boom{CLEAR}{CR}overwritten"


def _objective(params, ctx):
    if params["model"] == VALUES[2] and params[PARAM] > 0.5:
        raise RuntimeError(ERROR)
    base = {VALUES[0]: 0.7, VALUES[1]: 0.8, VALUES[2]: 0.6}[params["model"]]
    return base + 0.05 * params[PARAM] + 0.01 * (ctx.fold_index or 0)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile_report") / "h.db"
    space = hpstudy.SearchSpace({PARAM: hpstudy.Real(0.0, 1.0),
                                 "model": hpstudy.Categorical(VALUES)})
    study = hpstudy.Study(space, metric=METRIC, storage=path, seed=3, folds=kfold(20, 3))
    study.run(_objective, n_trials=14, progress=False)
    assert study.trials.with_state(hpstudy.TrialState.FAILED), "the fixture needs an error"
    return path


def _clean(text: str) -> None:
    for bad in HOSTILE:
        assert bad not in text, f"raw {bad!r} in the output"
    assert "\\x1b[2J" in text  # the name is shown, escaped


@pytest.mark.parametrize("fmt", ["text", "md"])
def test_analyze_text_and_markdown_escape_every_user_string(hostile_db, fmt, capsys):
    assert main(["analyze", str(hostile_db), "--format", fmt]) == 0
    out = capsys.readouterr().out
    _clean(out)
    for shown in ("\\x0d", "\\u202e", "\\x07\\x9b", "\\u2066\\u2028"):
        assert shown in out
    _clean(analyze_text(hostile_db, fmt))  # the Python API returns safe text too


def test_analyze_json_is_valid_escaped_and_exact(hostile_db, capsys):
    assert main(["analyze", str(hostile_db), "--format", "json"]) == 0
    out = capsys.readouterr().out
    for bad in HOSTILE:
        assert bad not in out
    doc = json.loads(out)  # valid JSON, and the strings are the study's own
    assert doc["metric"] == METRIC
    params = doc["sections"]["params"]["tables"][0]["rows"]
    assert PARAM in [row[0] for row in params]


def test_compare_escapes_the_studies_names_and_values(hostile_db, capsys):
    assert main(["compare", str(hostile_db), str(hostile_db)]) == 0
    out = capsys.readouterr().out
    for bad in HOSTILE:
        assert bad not in out
    assert "\\u2066\\u2028" in out or "\\x1b[2J" in out


def test_status_text_and_progress_lines_escape(hostile_db):
    text = status_text(hostile_db)
    _clean(text)
    trials = hpstudy.Study.load(hostile_db, folds=kfold(20, 3)).trials
    failed = trials.with_state(hpstudy.TrialState.FAILED)[0]
    line = progress_line(failed, 0.8, 10.0, metric=METRIC)
    assert "RuntimeError: boom\\x1b[2J" in line  # its first line (\r ends a line)
    for bad in HOSTILE:
        assert bad not in line


def test_the_table_columns_stay_aligned_with_escaped_names(hostile_db):
    """Escaping happens before the widths are taken: every row of a table is as wide."""
    text = analyze_text(hostile_db, "text")
    lines = text.splitlines()
    start = lines.index("Top 10 trials") + 2
    header, rule = lines[start], lines[start + 1]
    assert set(rule.replace(" ", "")) == {"-"}
    assert header.index("parameters") == rule.rindex(" ") + 1


def test_printable_and_json_printable():
    raw = "".join(HOSTILE) + "\n\t"
    assert printable(raw) == "\\x1b[2J\\x0d\\x07\\x9b\\u202e\\u2066\\u2028\n\\x09"
    doc = json.dumps({"k": raw}, ensure_ascii=False)
    safe = json_printable(doc)
    assert json.loads(safe) == {"k": raw}
    for bad in HOSTILE:
        assert bad not in safe
