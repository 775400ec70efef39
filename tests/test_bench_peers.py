"""The benchmark's peers: a seed reproduces a peer's run in any process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("hash_seeds", [("1", "2"), ("0", "77")])
def test_a_smac_run_is_the_same_in_pythons_whose_hash_seeds_differ(hash_seeds):
    """SMAC3 follows the order of sets of strings: ``PYTHONHASHSEED`` must not change a run
    (in the old in-process driver these runs parted at the fourth evaluation)."""
    pytest.importorskip("smac")
    code = ("from benchmarks._peers import run_smac_hpo\n"
            "from benchmarks._suite import instance\n"
            "print(run_smac_hpo(instance('ackley5', 3)[0], 8, 3))")
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                           text=True, check=True, timeout=300,
                           env={**os.environ, "PYTHONHASHSEED": h}).stdout
            for h in hash_seeds]
    assert runs[0] == runs[1] and len(eval(runs[0])) == 8  # noqa: S307 - a list we printed


def test_a_peer_in_another_process_that_exits_early_is_reported(tmp_path):
    """The pipe driver says which peer stopped, and with what exit code."""
    from benchmarks._peers import _pipe_run
    from benchmarks._suite import instance

    worker = tmp_path / "worker.py"
    worker.write_text("import sys, json\nsys.stdin.readline()\n"
                      "print(json.dumps({f'x{i}': 0.5 for i in range(5)}), flush=True)\n"
                      "sys.stdin.readline()\nsys.exit(3)\n")
    problem = instance("ackley5", 0)[0]
    with pytest.raises(RuntimeError, match=r"toy exited early \(exit code 3\)"):
        _pipe_run([sys.executable, str(worker)], dict(os.environ), {}, problem, 3, "toy")
