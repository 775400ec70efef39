"""The CLI's argument parser class and the options several subcommands share: bounded
integers, seconds, --trial-timeout/--max-failures and --dask (with its client)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from hpstudy.cli._output import _one_line, printable
from hpstudy.errors import ConfigError

#: Bounds of the integer options (``--jobs 10**12`` is refused, not an OverflowError).
MAX_JOBS = 1024
MAX_TRIALS = 10**9
MAX_SEED = 2**63 - 1
MAX_SEEDS = 1000  # confirm --seeds: initialisation seeds per split


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, printable(f"{self.prog}: error: {_one_line(message)} "
                               f"(see {self.prog} --help)") + "\n")


def _int_option(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[minimum, maximum]``."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer (got {text[:40]!r})") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be between {minimum} and {maximum:,} "
                                             f"(got {text[:40]})")
        return value
    return convert


def _seconds_option(text: str) -> float:
    """An argparse ``type``: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds (got {text[:40]!r})") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0 (got {text[:40]})")
    return value


def _add_control_options(command: argparse.ArgumentParser, default: str) -> None:
    """--trial-timeout and --max-failures (run, resume)."""
    command.add_argument("--trial-timeout", type=_seconds_option, default=None, metavar="S",
                         help=f"seconds one trial (or fold) may run: past it, its worker process "
                              f"is killed and the trial recorded FAILED (timeout); {default}")
    command.add_argument("--max-failures", type=_int_option(1, MAX_TRIALS), default=None,
                         metavar="N", help=f"stop the study after N consecutive failed trials "
                                           f"(exit status 2, naming the last error); {default}")


def _add_dask_option(command: argparse.ArgumentParser) -> None:
    """--dask (run, resume): the trials run on a Dask cluster (docs/cluster.rst)."""
    command.add_argument("--dask", default=None, metavar="ADDRESS",
                         help="run the trials on a Dask cluster: a scheduler's address "
                              "(tcp://host:8786) or local:N (N local worker processes); "
                              "--jobs then caps the tasks in flight (default: all the "
                              "cluster's worker threads)")


def _dask_client(spec: str | None) -> Any:
    """A context manager giving the Dask client of ``--dask`` (None without it)."""
    import contextlib

    if spec is None:
        return contextlib.nullcontext()
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--dask: needs Dask (pip install 'hpstudy[dask]')") from None
    stack = contextlib.ExitStack()
    if spec.startswith("local:"):
        n = spec[len("local:"):]
        if not n.isdigit() or not 1 <= int(n) <= MAX_JOBS:
            raise ConfigError(f"--dask: local:N needs 1 <= N <= {MAX_JOBS} (got {spec[:40]!r})")
        cluster = stack.enter_context(LocalCluster(
            n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address=None))
        client = stack.enter_context(Client(cluster))
    else:
        if "://" not in spec and ":" not in spec:
            raise ConfigError(f"--dask: must be a scheduler address (tcp://host:8786) or "
                              f"local:N (got {spec[:40]!r})")
        try:
            client = stack.enter_context(Client(spec, timeout=30))
        except OSError as exc:
            raise ConfigError(f"--dask: cannot reach the scheduler at {spec[:80]} ({exc})") from None

    @contextlib.contextmanager
    def opened() -> Any:
        with stack:
            yield client
    return opened()
