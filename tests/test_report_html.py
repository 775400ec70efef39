"""The HTML page, the text/Markdown/JSON analysis and the CLI commands, on real studies."""

from __future__ import annotations

import json
import re

import pytest

import hpstudy
from hpstudy.cli import main
from hpstudy.report import analyze_text, write_compare_html, write_html
from tests import _report_studies as rs

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "study.db"
    rs.multi_model(path, n_trials=18)
    return path


def _images(page: str) -> list[str]:
    return re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)


def test_page_is_self_contained_with_a_figure_per_section(db, tmp_path):
    out = write_html(db, tmp_path / "r.html")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    assert "<script" not in page and "could not be drawn" not in page
    # history, parallel, slices, importance, decomposition, distributions, curves, top
    assert len(_images(page)) == 8
    for key in ("settings", "history", "params", "importance", "decomposition", "distributions",
                "curves", "top", "comparison"):
        assert f'id="{key}"' in page


def test_figures_dir_gets_png_and_svg(tmp_path):
    write_html(rs.one_model(n_trials=6), tmp_path / "r.html", figures_dir=tmp_path / "figs")
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    # no reports: no learning curves; the rest as PNG and SVG
    expected = ["decomposition", "distributions", "history", "importance", "parallel", "slices",
                "top"]
    assert names == sorted(f"{n}.{ext}" for n in expected for ext in ("png", "svg"))


def test_user_strings_are_escaped_and_non_ascii_kept(tmp_path):
    space = hpstudy.SearchSpace({SCRIPT: hpstudy.Real(0.0, 1.0),
                                 "größe_学习率": hpstudy.Categorical(["α", "β"])})
    study = hpstudy.Study(space, metric="précision", seed=0, name="étude <b>")

    def objective(params, ctx):
        return params[SCRIPT] + (0.1 if params["größe_学习率"] == "α" else 0.0)

    study.run(objective, n_trials=10, progress=False)
    page = write_html(study, tmp_path / "x.html").read_text(encoding="utf-8")
    assert SCRIPT not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "größe_学习率" in page and "précision" in page and "étude &lt;b&gt;" in page
    assert "could not be drawn" not in page


@pytest.mark.parametrize("case", ["empty", "failed"])
def test_degenerate_studies_write_a_page_with_reasons(tmp_path, case):
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    study = hpstudy.Study(space, storage=tmp_path / "s.db")
    if case == "failed":
        study.run(rs.always_fails, n_trials=3, progress=False)
    page = write_html(tmp_path / "s.db", tmp_path / "s.html").read_text(encoding="utf-8")
    assert page.count('class="reason"') >= 7
    assert "could not be drawn" not in page


def test_analyze_formats(db):
    text = analyze_text(db)
    assert "Model change vs tuning vs noise\n===" in text and "Top 10 trials" in text
    md = analyze_text(db, "md")
    assert "## Best vs runner-up" in md and "| rank | trial | mean |" in md
    doc = json.loads(analyze_text(db, "json"))
    assert doc["metric"] == "accuracy" and doc["sections"]["comparison"]["available"]
    top = doc["sections"]["top"]["tables"][0]
    assert top["columns"][:3] == ["rank", "trial", "mean"] and len(top["rows"]) == 10
    with pytest.raises(hpstudy.ConfigError, match="format"):
        analyze_text(db, "xml")


def test_cli_report_analyze_compare(db, tmp_path, capsys):
    out = tmp_path / "cli.html"
    assert main(["report", str(db), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"report written to {out}"
    assert len(_images(out.read_text(encoding="utf-8"))) == 8
    assert main(["analyze", str(db), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["study"] == "three models"
    other = tmp_path / "other.db"
    rs.multi_model(other, n_trials=8, seed=3)
    assert main(["compare", str(db), str(other), "-o", str(tmp_path / "c.html")]) == 0
    text = capsys.readouterr().out
    assert "Best configuration of each study" in text and "study.db" in text
    assert len(_images((tmp_path / "c.html").read_text(encoding="utf-8"))) >= 2
    assert main(["analyze", str(tmp_path / "missing.db")]) == 2


def test_compare_needs_studies(tmp_path):
    with pytest.raises(hpstudy.ConfigError, match="sources"):
        write_compare_html([], tmp_path / "c.html")


def test_report_watch_rewrites_the_page_until_interrupted(tmp_path, monkeypatch, capsys):
    import hpstudy.report.cli as rcli

    db = tmp_path / "small.db"
    rs.one_model(db, n_trials=4)
    calls = []

    def fake_sleep(seconds):
        calls.append(seconds)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(rcli.time, "sleep", fake_sleep)
    out = tmp_path / "w.html"
    assert main(["report", str(db), "-o", str(out), "--watch", "5"]) == 0
    assert calls == [5.0, 5.0]
    assert capsys.readouterr().out.count("report written to") == 2
    assert main(["report", str(db), "--watch", "0"]) == 2
