"""The seed's experiments (#1 one split, #3 naive vs grouped k-fold) on a tiny image set."""

from __future__ import annotations

import pytest

pytest.importorskip("skimage")
pytest.importorskip("PIL")

from examples.jellyfish.experiments import main, table  # noqa: E402
from hpstudy.stats import proportion_interval  # noqa: E402
from tests.test_jellyfish_data import kaggle  # noqa: E402


def test_table_reports_intervals_and_naive_minus_grouped_leakage():
    ci = proportion_interval(54, 90)
    rows = [("#1 split", "A", 0.5, proportion_interval(20, 40), 0.45, 40),
            ("#3 naive", "A", 0.6, ci, None, 90),
            ("#3 grouped", "A", 0.4, proportion_interval(36, 90), None, 90)]
    lines = table(rows).splitlines()
    assert lines[2].split("|")[1:-1] == [" #1 split ", " A ", " 0.500 ",
                                         f" [{rows[0][3].low:.3f}, {rows[0][3].high:.3f}] ",
                                         " 40 ", " 0.450 ", "  "]
    assert lines[3].rstrip().endswith("| +20.0 pts |")
    assert lines[4].rstrip().endswith("|  |")


@pytest.mark.slow
def test_experiments_run_on_a_tiny_set_and_write_the_table(tmp_path, capsys):
    data_dir = kaggle(tmp_path / "data")
    out = tmp_path / "out"
    assert main(["--data-dir", str(data_dir), "--families", "ColourHOG", "--folds", "2",
                 "--jobs", "1", "--out", str(out)]) == 0
    text = (out / "results.md").read_text()
    assert text.strip() in capsys.readouterr().out
    rows = [line.split("|")[1:-1] for line in text.splitlines()[2:]]
    assert [r[0].strip() for r in rows] == ["#1 split"] * 2 + ["#3 naive"] * 2 + ["#3 grouped"] * 2
    n = {r[0].strip(): int(r[4]) for r in rows}
    # one split scores the 2 valid images; k-fold pools the out-of-fold Train files (6)
    assert n == {"#1 split": 2, "#3 naive": 6, "#3 grouped": 6}
    assert all(r[6].strip().endswith("pts") for r in rows if r[0].strip() == "#3 naive")
    assert sorted(p.name for p in out.glob("*.db")) == ["1-split.db", "3-grouped.db",
                                                       "3-naive.db"]
