"""The sample-efficiency benchmark reprints its table from saved runs (``--load``) as RST."""

from __future__ import annotations

import json

import pytest

from benchmarks import bench_sample_efficiency as bench
from benchmarks._suite import SUITE

ARGS = ["--problems", "ackley5", "--budgets", "4,6", "--seeds", "4", "--methods", "gp,random"]


def _rst(out: str) -> str:
    return out[out.index(".. list-table::"):]


def test_load_reprints_the_table_of_saved_runs_and_a_later_file_wins(tmp_path, capsys):
    first = tmp_path / "first.json"
    assert bench.main([*ARGS, "--workers", "1", "--json", str(first), "--rst"]) == 0
    ran = _rst(capsys.readouterr().out)
    assert "   * - ackley5\n     - 6\n" in ran and "     - random (p)" in ran
    assert bench.main([*ARGS, "--load", str(first), "--rst"]) == 0
    assert _rst(capsys.readouterr().out) == ran

    # a second file whose random runs hit the optimum replaces the first file's
    raw = json.loads(first.read_text())
    opt = SUITE["ackley5"].optimum
    perfect = {s: [[opt] * 6, [opt] * 6] for s in raw["values"]["random/ackley5"]}
    second = tmp_path / "second.json"
    second.write_text(json.dumps({"budgets": [4, 6], "values": {"random/ackley5": perfect},
                                  "seconds": {"random/ackley5": [0.0] * 4}}))
    assert bench.main([*ARGS, "--load", f"{first},{second}", "--rst"]) == 0
    table = _rst(capsys.readouterr().out)
    # four seeds all better: one-sided Mann-Whitney p = 1/70
    assert "     - 0 (0.01)\n     - BEHIND random" in table


def test_load_refuses_runs_with_fewer_seeds_or_evaluations(tmp_path, capsys):
    path = tmp_path / "runs.json"
    bench.main([*ARGS, "--workers", "1", "--json", str(path)])
    capsys.readouterr()
    with pytest.raises(SystemExit, match="gp on ackley5 has 4 seeds, not 5"):
        bench.main([*ARGS[:-4], "--seeds", "5", "--methods", "gp,random", "--load", str(path)])
    with pytest.raises(SystemExit, match="ran 6 evaluations, not 8"):
        bench.main(["--problems", "ackley5", "--budgets", "4,8", "--seeds", "4",
                    "--methods", "gp,random", "--load", str(path)])


def test_a_peer_that_ran_fewer_evaluations_fills_only_the_budgets_it_reached(tmp_path, capsys):
    """scikit-optimize runs at 25 and 50 evaluations beside the others' 100: its cells at
    100 are "-" and it takes no part in that row's verdict."""
    path = tmp_path / "runs.json"
    bench.main([*ARGS, "--workers", "1", "--json", str(path)])
    capsys.readouterr()
    raw = json.loads(path.read_text())
    opt = SUITE["ackley5"].optimum
    # a peer that hit the optimum at once but ran only 4 evaluations
    short = {s: [[opt] * 4, [opt] * 4] for s in raw["values"]["random/ackley5"]}
    raw["values"]["random/ackley5"] = short
    path.write_text(json.dumps(raw))
    assert bench.main([*ARGS, "--load", str(path), "--rst"]) == 0
    rows = _rst(capsys.readouterr().out).split("   * - ackley5\n")[1:]
    at4, at6 = rows
    assert "     - 0 (0.01)\n     - BEHIND random" in at4  # it counts where it ran
    assert at6.split("\n")[2] == "     - -" and "BEHIND" not in at6
    raw["values"]["gp/ackley5"] = {s: [v[:4], t[:4]] for s, (v, t) in
                                   raw["values"]["gp/ackley5"].items()}
    path.write_text(json.dumps(raw))
    with pytest.raises(SystemExit, match="gp on ackley5 ran 4 evaluations, not 6"):
        bench.main([*ARGS, "--load", str(path)])


def test_each_budget_reads_the_shortest_runs_that_reached_it(tmp_path, capsys):
    """SMAC3 plans its initial design from its budget, so it is run once per budget: a
    method saved with runs of two lengths is read at each budget from the shorter run that
    reached it, and a later file replaces only the runs of the same length."""
    path = tmp_path / "runs.json"
    bench.main([*ARGS, "--workers", "1", "--json", str(path)])
    capsys.readouterr()
    raw = json.loads(path.read_text())
    opt = SUITE["ackley5"].optimum
    seeds = list(raw["values"]["random/ackley5"])
    # runs made for 4 evaluations hit the optimum; the runs made for 6 start far from it
    # (they would put "random" ahead at 4 if budget 4 read them) and hit it at the end
    short = {s: [[opt] * 4, [opt] * 4] for s in seeds}
    worst = opt + 1e6
    long_ = {s: [[worst] * 5 + [opt], [worst] * 5 + [opt]] for s in seeds}
    for name, runs in (("short", short), ("long", long_)):
        (tmp_path / f"{name}.json").write_text(json.dumps(
            {"budgets": [4, 6], "values": {"random/ackley5": runs},
             "seconds": {"random/ackley5": [0.0] * 4}}))
    files = f"{path},{tmp_path / 'long.json'},{tmp_path / 'short.json'}"
    assert bench.main([*ARGS, "--load", files, "--rst"]) == 0
    at4, at6 = _rst(capsys.readouterr().out).split("   * - ackley5\n")[1:]
    assert "     - 0 (0.01)\n     - BEHIND random" in at4
    assert "     - 0 (0.01)\n     - BEHIND random" in at6
    # the same lengths in the other order: the 6-evaluation runs of the first file are
    # replaced by the later file's, so both budgets still read the runs made for them
    files = f"{path},{tmp_path / 'short.json'},{tmp_path / 'long.json'}"
    assert bench.main([*ARGS, "--load", files, "--rst"]) == 0
    at4b, at6b = _rst(capsys.readouterr().out).split("   * - ackley5\n")[1:]
    assert (at4b, at6b) == (at4, at6)
    # without the short runs, budget 4 reads the start of the long ones: far from the optimum
    assert bench.main([*ARGS, "--load", f"{path},{tmp_path / 'long.json'}", "--rst"]) == 0
    at4c = _rst(capsys.readouterr().out).split("   * - ackley5\n")[1]
    assert at4c.endswith("     - 1e+06 (1.00)\n     - best\n")


def test_seeds_run_apart_and_loaded_together_make_the_table_of_one_run(tmp_path, capsys):
    """``--first-seed`` runs later seeds; ``--load`` merges the files seed by seed."""
    whole, first, later = (tmp_path / f"{n}.json" for n in ("whole", "first", "later"))
    assert bench.main([*ARGS, "--workers", "1", "--json", str(whole), "--rst"]) == 0
    ran = _rst(capsys.readouterr().out)
    halves = [a for a in ARGS if a != "4"]  # --seeds given below
    assert halves.index("--seeds") == len(halves) - 3
    halves.insert(halves.index("--seeds") + 1, "2")
    assert bench.main([*halves, "--workers", "1", "--json", str(first)]) == 0
    assert bench.main([*halves, "--first-seed", "2", "--workers", "1",
                       "--json", str(later)]) == 0
    assert "over 2 seeds (2 to 3;" in capsys.readouterr().out
    assert sorted(json.loads(later.read_text())["values"]["gp/ackley5"]) == ["2", "3"]
    assert bench.main([*ARGS, "--load", f"{later},{first}", "--rst"]) == 0
    assert _rst(capsys.readouterr().out) == ran
    with pytest.raises(SystemExit):
        bench.main([*ARGS, "--first-seed", "-1"])
    with pytest.raises(SystemExit):  # the files say which seeds ran
        bench.main([*ARGS, "--first-seed", "2", "--load", f"{later},{first}"])
    assert "--first-seed: has no effect with --load" in capsys.readouterr().err


def test_a_seed_run_again_is_timed_once_by_its_later_run(tmp_path, capsys):
    """The seconds line reads each seed's time from the file that won its run."""
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    assert bench.main([*ARGS, "--workers", "1", "--json", str(first)]) == 0
    raw = json.loads(first.read_text())
    assert sorted(raw["seconds"]["random/ackley5"]) == ["0", "1", "2", "3"]
    raw["seconds"]["random/ackley5"] = {"0": 1.0, "1": 1.0, "2": 1.0, "3": 1.0}
    first.write_text(json.dumps(raw))
    # seeds 2 and 3 run again, slower (a file written before seconds were keyed by seed:
    # a list in the order of the runs)
    rerun = {"2": raw["values"]["random/ackley5"]["2"], "3": raw["values"]["random/ackley5"]["3"]}
    again.write_text(json.dumps({"budgets": [4, 6], "values": {"random/ackley5": rerun},
                                 "seconds": {"random/ackley5": [7.0, 9.0]}}))
    capsys.readouterr()
    assert bench.main([*ARGS, "--load", f"{first},{again}"]) == 0
    # (1 + 1 + 7 + 9) / 4, not the mean of all six times (3.3)
    assert " random 4.5" in capsys.readouterr().out


def test_min_seeds_reads_a_peer_with_fewer_seeds_and_the_header_says_so(tmp_path, capsys):
    path = tmp_path / "runs.json"
    bench.main([*ARGS, "--workers", "1", "--json", str(path)])
    capsys.readouterr()
    raw = json.loads(path.read_text())
    opt = SUITE["ackley5"].optimum
    # a peer with 3 seeds, each at the optimum; its 6-evaluation runs timed 2 s, and runs
    # made for 4 evaluations timed 9 s (not the seconds of a 6-evaluation run)
    raw["values"]["random/ackley5"] = {s: [[opt] * 6, [opt] * 6] for s in ("0", "1", "2")}
    raw["seconds"]["random/ackley5"] = [2.0] * 3
    path.write_text(json.dumps(raw))
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"budgets": [4], "values": {"random/ackley5": {
        s: [[opt] * 4, [opt] * 4] for s in ("0", "1", "2")}},
        "seconds": {"random/ackley5": [9.0] * 3}}))
    with pytest.raises(SystemExit, match="random on ackley5 has 3 seeds, not 4"):
        bench.main([*ARGS, "--load", str(path)])
    with pytest.raises(SystemExit, match="random on ackley5 has 3 seeds, not at least 4"):
        bench.main([*ARGS, "--seeds", "5", "--min-seeds", "4", "--load", str(path)])
    with pytest.raises(SystemExit, match="--min-seeds: must be between 1 and --seeds"):
        bench.main([*ARGS, "--min-seeds", "5", "--load", str(path)])
    assert bench.main([*ARGS, "--min-seeds", "3", "--load", f"{path},{short}", "--rst"]) == 0
    out = capsys.readouterr().out
    assert "over seeds gp 4, random 3 (p:" in out
    assert "ackley5            gp " in out and " random 2.0" in out
    # the line says what it read: random's 4-evaluation runs are not timed at 6
    assert "mean wall seconds per run (each method's longest runs):" in out
    # 4 seeds against 3, every peer run better (and tied at 0, so scipy takes the normal
    # approximation: 0.022; the exact p would be 1 / C(7, 3) = 0.029)
    assert "     - 0 (0.02)\n     - BEHIND random" in _rst(out)


def _gp_settings() -> dict:
    from hpstudy.optimizers.gp import _acquisition, _model, _optimizer

    return {(m.__name__, k): v for m in (_acquisition, _model, _optimizer)
            for k, v in vars(m).items() if k.isupper()}


def test_the_ablation_reprints_its_pairwise_p_values_from_saved_runs(tmp_path, capsys):
    from benchmarks import bench_gp_ablation as ablation

    before = _gp_settings()
    path = tmp_path / "abl.json"
    args = ["--problems", "ackley5", "--budgets", "4,6", "--seeds", "3", "--workers", "1",
            "--methods", "gp,gp-lmin10,gp-noise-oracle"]
    assert ablation.main([*args, "--json", str(path)]) == 0
    ran = capsys.readouterr().out
    pairs = ran[ran.index("against gp:"):]
    assert "ackley5               4 gp " in pairs and "gp-noise-oracle" in pairs
    assert ablation.main([*args, "--load", str(path)]) == 0
    loaded = capsys.readouterr().out
    assert loaded[loaded.index("against gp:"):] == pairs
    # the same runs split by seed over two files (as --first-seed writes them): the same
    raw = json.loads(path.read_text())
    for name, keep in (("a", {"0"}), ("b", {"1", "2"})):
        part = {k: {s: v for s, v in runs.items() if s in keep} for k, runs in raw["values"].items()}
        (tmp_path / f"{name}.json").write_text(json.dumps(dict(raw, values=part)))
    assert ablation.main([*args, "--load", f"{tmp_path / 'b.json'},{tmp_path / 'a.json'}"]) == 0
    split = capsys.readouterr().out
    assert split[split.index("against gp:"):] == pairs
    # the variants ran in this process: none of their settings is left behind
    assert _gp_settings() == before


def test_the_familywise_line_adjusts_every_peer_test_of_the_table_by_holm():
    # two peers at p = 0.03 and 0.04 are BEHIND row by row, not after Holm (0.06, 0.06)
    rows = [("a", 25, {}, {"tpe": 0.03, "random": 0.04}, "BEHIND tpe,random")]
    assert bench.familywise(rows).endswith("BEHIND on no row")
    # Holm by hand: 0.001, 0.02, 0.5 sorted, times 3, 2, 1: 0.003, 0.04, 0.5
    rows = [("a", 25, {}, {"tpe": 0.001, "random": 0.5}, ""), ("b", 50, {}, {"tpe": 0.02}, "")]
    line = bench.familywise(rows)
    assert "over the 3 peer tests): smallest p 0.001 (a@25 tpe), adjusted 0.003" in line
    assert line.endswith("BEHIND: a@25 tpe (adjusted p=0.003), b@50 tpe (adjusted p=0.040)")


def test_one_sided_mann_whitney_over_10_and_10_seeds_rejects_4_46_percent_of_equal_pairs():
    """bench_aa.SIZE_10, the figure behind the familywise line: the exact size of the
    table's test, by enumerating the rank sums of every split of 20 ranks into 10 and 10."""
    import itertools

    import numpy as np
    from scipy import stats

    from benchmarks import bench_aa

    u = np.array([sum(c) for c in itertools.combinations(range(1, 21), 10)]) - 55
    ranks = np.arange(1.0, 21.0)
    size = 0.0
    for value, count in zip(*np.unique(u, return_counts=True), strict=True):
        # a sample whose rank sum gives this U: scipy's p-value decides
        combo = next(c for c in itertools.combinations(range(20), 10) if sum(c) + 10 - 55 == value)
        a = ranks[list(combo)]
        b = np.delete(ranks, list(combo))
        if stats.mannwhitneyu(a, b, alternative="greater").pvalue < 0.05:
            size += count / len(u)
    assert size == pytest.approx(bench_aa.SIZE_10, abs=5e-5)


def test_the_a_a_check_tests_each_half_of_the_seeds_against_the_other():
    from benchmarks import bench_aa

    opt = SUITE["ackley5"].optimum
    # seeds 0-3 (A) reach the optimum, seeds 4-7 (B) stay 1 to 4 above it
    runs = {s: ([opt] * 5, [opt] * 5) for s in range(4)}
    runs.update({s: ([opt + s - 3] * 5, [opt + s - 3] * 5) for s in range(4, 8)})
    (row,) = bench_aa.split_rows({"ackley5": runs}, [5], 4)
    problem, budget, med_a, med_b, p_lower, p_higher = row
    assert (problem, budget, med_a, med_b) == ("ackley5", 5, 0.0, 2.5)
    assert p_higher < 0.05 < 0.9 < p_lower  # B is worse, and the test says so one way only
    with pytest.raises(SystemExit, match="ackley5: 8 seeds, need 10"):
        bench_aa.split_rows({"ackley5": runs}, [5], 5)
