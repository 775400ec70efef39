"""Issue 13 item 10: status, export and report read a study on read-only media.

Root may write anywhere, so the reading command runs in a child process that drops
its privileges to ``nobody`` (a fork: the interpreter under /root may be out of
that user's reach) on a copy of the study in a folder that user cannot write
(0555, files 0444); without root the folder is read-only for the test's own user.
Two studies: one closed cleanly (its WAL checkpointed into the file) and one
killed with its last events still in the ``-wal`` file, copied with and without
its ``-shm`` index. The events in the WAL must be read (never an older state).
"""

from __future__ import annotations

import csv
import gc
import glob
import io
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from hpstudy.cli import main
from hpstudy.errors import StorageError
from hpstudy.storage import SQLiteStorage, check

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534
_KILLED_STUDY = """
import os, sqlite3, sys, hpstudy
space = hpstudy.SearchSpace({"lr": hpstudy.Real(0.0, 1.0), "depth": hpstudy.Integer(2, 9)})
study = hpstudy.Study(space, storage=sys.argv[1], seed=4)
n = int(sys.argv[2])
study.run(lambda p, ctx: p["lr"] * p["depth"], n_trials=n // 2, progress=False)
conn = sqlite3.connect(sys.argv[1])  # the first half goes into the database file
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
conn.close()
study.run(lambda p, ctx: p["lr"] * p["depth"], n_trials=n - n // 2, progress=False)
os._exit(0)  # killed: the second half stays in the WAL (the connection is never closed)
"""


@pytest.fixture(scope="module")
def base():
    """A folder the unprivileged reader can reach (pytest's tmp_path is root's alone)."""
    folder = tempfile.mkdtemp(prefix="hpstudy-ro-")
    os.chmod(folder, 0o755)
    yield Path(folder)
    for path, dirs, _ in os.walk(folder):
        for d in dirs:
            os.chmod(os.path.join(path, d), 0o755)
    shutil.rmtree(folder, ignore_errors=True)


def _events_in(path: Path) -> int:
    """The committed events, counted by SQLite itself (the oracle), in a scratch copy."""
    scratch = Path(tempfile.mkdtemp())
    try:
        for suffix in ("", "-wal"):
            if Path(f"{path}{suffix}").exists():
                shutil.copyfile(f"{path}{suffix}", scratch / f"s.db{suffix}")
        conn = sqlite3.connect(scratch / "s.db")
        try:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            conn.close()
    finally:
        shutil.rmtree(scratch)


def _study(base: Path, name: str, n: int, *, killed: bool) -> Path:
    folder = base / f"src-{name}"
    folder.mkdir()
    path = folder / "s.db"
    subprocess.run([sys.executable, "-c", _KILLED_STUDY, str(path), str(n)], cwd=ROOT,
                   check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if not killed:  # closed cleanly: the last connection checkpoints and removes the WAL
        conn = sqlite3.connect(path)
        conn.execute("SELECT count(*) FROM events").fetchall()
        conn.close()
        assert not Path(f"{path}-wal").exists()
    else:
        assert os.path.getsize(f"{path}-wal") > 0 and Path(f"{path}-shm").exists()
    return path


def _read_only_copy(source: Path, base: Path, name: str, suffixes: tuple[str, ...]) -> Path:
    folder = base / name
    folder.mkdir()
    for suffix in suffixes:
        shutil.copyfile(f"{source}{suffix}", folder / f"s.db{suffix}")
        os.chmod(folder / f"s.db{suffix}", 0o444)
    os.chmod(folder, 0o555)
    return folder / "s.db"


def _as_reader(argv: list[str], folder: Path) -> tuple[int, str, str]:
    """``hpstudy ARGV`` as a user who cannot write ``folder``: (rc, stdout, stderr)."""
    if os.geteuid() != 0:
        if os.access(folder, os.W_OK):
            pytest.skip("the folder stays writable for this user")
        proc = subprocess.run([sys.executable, "-m", "hpstudy.cli", *argv], cwd=ROOT,
                              capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
        return proc.returncode, proc.stdout, proc.stderr
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, check it cannot write, then read
        rc = 97
        try:
            os.close(out_r)
            os.close(err_r)
            sys.stdout = open(out_w, "w")  # noqa: SIM115 (closed by os._exit)
            sys.stderr = open(err_w, "w")  # noqa: SIM115
            try:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            except OSError:
                rc = 98
                raise
            rc = 99
            probe = folder / "probe"
            try:
                probe.write_text("x")
            except PermissionError:
                rc = main(argv)
                gc.collect()  # closes what the command left open (os._exit runs no finalizer)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)
    os.close(out_w)
    os.close(err_w)
    with open(out_r) as out, open(err_r) as err:
        stdout, stderr = out.read(), err.read()
    rc = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if rc == 98:
        pytest.skip("running as root, but cannot drop privileges to nobody")
    assert rc != 99, "the reader could write the folder: the test would prove nothing"
    return rc, stdout, stderr


def _warm_up(path: Path, out: Path) -> None:
    """Run each command once here, so that the forked reader imports nothing (it may not
    reach the interpreter's files as nobody)."""
    warm = out.parent / "warm"
    warm.mkdir(exist_ok=True)
    shutil.copyfile(path, warm / "s.db")
    for suffix in ("-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            shutil.copyfile(f"{path}{suffix}", warm / f"s.db{suffix}")
    with open(os.devnull, "w") as null:
        stdout, sys.stdout = sys.stdout, null
        try:
            for argv in _commands(warm / "s.db", warm / "r.html"):
                assert main(argv) == 0
        finally:
            sys.stdout = stdout


def _commands(path: Path, html: Path) -> list[list[str]]:
    return [["status", str(path)], ["export", str(path)], ["check", str(path)],
            ["report", str(path), "-o", str(html)]]


def _exported_numbers(text: str) -> list[int]:
    return sorted(int(row["number"]) for row in csv.DictReader(io.StringIO(text)))


CASES = {  # name: (killed, files copied to the read-only folder)
    "clean": (False, ("",)),
    "wal-and-shm": (True, ("", "-wal", "-shm")),
    "wal-without-shm": (True, ("", "-wal")),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_reading_commands_read_a_study_on_read_only_media(base, case):
    killed, suffixes = CASES[case]
    n = 7 if killed else 5
    source = _study(base, case, n, killed=killed)
    out = base / f"out-{case}"
    out.mkdir()
    os.chmod(out, 0o777)  # where the report goes
    _warm_up(source, out)
    path = _read_only_copy(source, base, f"ro-{case}", suffixes)
    before = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in path.parent.iterdir()}
    copies = set(glob.glob(os.path.join(tempfile.gettempdir(), "hpstudy-read-*")))
    expected = _events_in(source)
    assert expected == 3 * n  # created, fold finished, finished: none left in an old state
    status, export, checked, report = _commands(path, out / "r.html")
    rc, stdout, stderr = _as_reader(status, path.parent)
    assert (rc, stderr) == (0, ""), stderr
    assert f"{n} trials" in stdout.splitlines()[0]
    rc, stdout, stderr = _as_reader(export, path.parent)
    assert rc == 0, stderr
    assert _exported_numbers(stdout) == list(range(n))
    rc, stdout, stderr = _as_reader(checked, path.parent)
    assert rc == 0 and "ok" in stdout, stderr
    rc, _, stderr = _as_reader(report, path.parent)
    assert rc == 0, stderr
    assert (out / "r.html").stat().st_size > 0
    after = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in path.parent.iterdir()}
    assert after == before  # nothing written, nothing created beside the study
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "hpstudy-read-*"))) <= copies
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o555


def test_events_in_the_wal_are_read_from_a_private_copy_when_the_folder_is_read_only(
        base, monkeypatch):
    """In-process: the fallback that copies the database and its WAL, then removes the copy."""
    source = _study(base, "inproc", 4, killed=True)
    folder = base / "inproc-ro"
    folder.mkdir()
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{source}{suffix}", folder / f"s.db{suffix}")
    import hpstudy.storage._readonly as readonly

    opened = []
    real_open = readonly._open

    def fake_open(uri, timeout):  # as on read-only media: the -shm file cannot be created
        if str(folder) in uri and "immutable" not in uri:
            raise sqlite3.OperationalError("unable to open database file")
        conn = real_open(uri, timeout)
        opened.append(uri)
        return conn

    monkeypatch.setattr(readonly, "_open", fake_open)
    storage = SQLiteStorage(folder / "s.db", read_only=True)
    assert len(storage.read()) == _events_in(source) == 12
    assert storage.load_meta()["seed"] == 4
    (copy_uri,) = opened
    copy_dir = Path(copy_uri.removeprefix("file:").split("?")[0]).parent
    assert copy_dir.exists() and copy_dir != folder
    storage.close()
    assert not copy_dir.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["s.db", "s.db-wal"]
    assert check(folder / "s.db") == []  # check reads the copy too, and finds it sound


def test_a_wal_beside_an_unreadable_index_is_refused_not_read_as_an_old_state(base, monkeypatch):
    source = _study(base, "shm", 3, killed=True)
    import hpstudy.storage._readonly as readonly

    def fake_open(uri, timeout):  # the -shm file is there, but this user cannot read it
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(readonly, "_open", fake_open)
    with pytest.raises(StorageError, match=r"last events are in .*-wal.*cannot be read"):
        SQLiteStorage(source, read_only=True).read()
    monkeypatch.setattr(sys, "argv", ["hpstudy"])
    assert main(["status", str(source)]) == 2  # the CLI: rc 2 and the one line
