"""Soak: coordinator and worker SIGKILLs with ``n_jobs=2``, and per-trial overhead at scale.

Run: ``python -m benchmarks.bench_soak [--quick]``

Part 1 runs a study of short trials on two workers in a child process and
SIGKILLs the coordinator (and, in between, a pool worker) at random moments,
resuming each time, until the study has all its trials. It reports the trials
finished, lost (created but never finished, or missing: 0), duplicated
(``trial_created``/``trial_finished`` twice, or one fold's result twice in one
epoch: 0), and the processes left alive after the run (orphans: 0).

Part 2 times the study loop (random search, a trivial objective, SQLite) per
block of 1,000 trials up to 20,000 (``--quick``: 5,000), and the read-only load
a ``status`` or ``export`` does on the final study. Goal: the last block within
1.5x of the first, the load under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import hpstudy
from hpstudy.storage import SQLiteStorage

ROOT = Path(__file__).resolve().parents[1]
SPACE = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0), "k": hpstudy.Integer(1, 9)})


def soak_objective(params, ctx):
    """Sleeps a little, reports twice, returns a function of the parameters."""
    time.sleep(float(os.environ.get("HPSTUDY_SOAK_SLEEP", "0.05")))
    for step in range(2):
        ctx.report(step, params["x"] * (step + 1))
    return params["x"] + params["k"]


def drive(db: str, n: int) -> None:
    """The coordinator: create or resume the study and run it to ``n`` trials."""
    if SQLiteStorage(db).exists():
        study = hpstudy.Study.load(db)
    else:
        study = hpstudy.Study(SPACE, storage=db, seed=3)
    study.run(soak_objective, n_trials=max(0, n - len(study.trials)), n_jobs=2, progress=False)


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _start(db: str, n: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmarks.bench_soak", "--drive", db, str(n)],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT), HPSTUDY_SOAK_SLEEP="0.25"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def soak(n: int, coordinator_kills: int, worker_kills: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    folder = tempfile.mkdtemp()
    db = os.path.join(folder, "soak.db")
    seen: set[int] = set()
    landed = {"coordinator": 0, "worker": 0}
    rc = None
    for attempt in range(coordinator_kills + worker_kills + 1):
        proc = _start(db, n)
        last = attempt == coordinator_kills + worker_kills
        if not last:
            time.sleep(rng.uniform(0.8, 2.0))
            workers = _children(proc.pid)
            seen.update(workers)
            if attempt % 2 == 1 and workers and landed["worker"] < worker_kills:
                os.kill(rng.choice(workers), signal.SIGKILL)  # a worker; the run goes on
                landed["worker"] += 1
                time.sleep(rng.uniform(0.3, 1.0))
                seen.update(_children(proc.pid))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                landed["coordinator"] += 1
        _, err = proc.communicate(timeout=600)
        rc = proc.returncode
        if last and rc != 0:
            raise RuntimeError(err.decode()[-2000:])
    time.sleep(1.0)  # let any worker that would outlive its coordinator show itself
    orphans = [p for p in seen if _alive(p)]
    for pid in orphans:
        os.kill(pid, signal.SIGKILL)
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT kind, number, payload, epoch FROM events").fetchall()
    conn.close()
    keys = Counter((k, num, json.loads(p)["fold"] if k == "fold_finished" else None,
                    e if k == "fold_finished" else None)
                   for k, num, p, e in rows if k in ("trial_created", "trial_finished", "fold_finished"))
    trials = hpstudy.Study.load(SQLiteStorage(db, read_only=True)).trials
    finished = [t for t in trials if t.state.is_finished()]
    return {"kills": landed, "trials": len(trials), "finished": len(finished),
            "lost": n - len(finished), "duplicated": sum(c - 1 for c in keys.values() if c > 1),
            "orphans": len(orphans),
            "failed": sum(t.state is hpstudy.TrialState.FAILED for t in trials)}


def overhead(total: int, block: int = 1000) -> tuple[list[float], float]:
    folder = tempfile.mkdtemp()
    db = os.path.join(folder, "scale.db")
    study = hpstudy.Study(SPACE, storage=db, seed=0)
    per_trial = []
    for _ in range(total // block):
        start = time.perf_counter()
        study.run(lambda p, ctx: p["x"], n_trials=block, progress=False)
        per_trial.append((time.perf_counter() - start) / block * 1e3)
    start = time.perf_counter()
    trials = hpstudy.Study.load(SQLiteStorage(db, read_only=True)).trials
    trials.best()
    load = time.perf_counter() - start
    return per_trial, load


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer kills, 5,000 trials")
    parser.add_argument("--drive", nargs=2, metavar=("DB", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive:
        drive(args.drive[0], int(args.drive[1]))
        return
    kills, n = (2, 40) if args.quick else (6, 120)
    result = soak(n, coordinator_kills=kills, worker_kills=kills // 2)
    print(f"soak, n_jobs=2, {n} trials: {result['kills']['coordinator']} coordinator and "
          f"{result['kills']['worker']} worker SIGKILLs")
    print(f"{'finished':>10} {'lost':>6} {'duplicated':>11} {'orphans':>8} {'failed':>7}")
    print(f"{result['finished']:>10} {result['lost']:>6} {result['duplicated']:>11} "
          f"{result['orphans']:>8} {result['failed']:>7}")
    total = 5000 if args.quick else 20000
    per_trial, load = overhead(total)
    print("\nper-trial overhead (SQLite, random search), ms per trial by block of 1,000 trials:")
    print(f"{'trials':>14} {'ms/trial':>9}")
    for i, ms in enumerate(per_trial):
        if i in (0, 1, len(per_trial) // 2, len(per_trial) - 1):
            print(f"{i * 1000:>6}-{(i + 1) * 1000:<7} {ms:>9.3f}")
    print(f"last block / first block: {per_trial[-1] / per_trial[0]:.2f}x (goal <= 1.5x)")
    print(f"read-only load of {total} trials (status/export): {load:.2f} s (goal < 1 s)")


if __name__ == "__main__":
    main()
