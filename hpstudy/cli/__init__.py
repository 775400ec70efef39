"""The ``hpstudy`` command: run, resume, status, export, check (and report, analyze,
compare, audit).

Exit codes: 0 on success; 2 on bad input, a study file that cannot be read, an
output that cannot be written, or a study stopped by ``--max-failures`` (one
line on stderr: ``hpstudy COMMAND: error: ...``); 130 when interrupted (Ctrl-C,
SIGINT) and 143 on SIGTERM: ``run``, ``resume`` and ``confirm`` then start no
new trial, let the running ones finish (a second signal interrupts them: they
stay RUNNING, to be resumed), release the study and print ``interrupted: N
trials kept; resume with `hpstudy resume STUDY.db```; 141, quietly, when the
reader of the output went away (``hpstudy status | head -1``); 1 on an
unexpected error (one line; set ``HPSTUDY_DEBUG=1`` for the traceback).

Security: ``run`` and ``resume`` import and call Python code (the objective and
the folds factory). A study file names the code it was run with, so ``resume``
asks for it on the command line and runs the code the file names only with
``--trust-stored-objective``. ``status``, ``export``, ``check``, ``report``,
``analyze`` and ``compare`` never import code. Names and values from a study
file are printed with control characters escaped, and CSV cells that a
spreadsheet would run as a formula are quoted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from hpstudy.cli._commands import (
    MAX_JOBS,
    MAX_SEED,
    MAX_TRIALS,
    _cmd_audit,
    _cmd_check,
    _cmd_confirm,
    _cmd_resume,
    _cmd_run,
    _cmd_status,
    _parser,
    load_callable,
)
from hpstudy.cli._export import _cmd_export
from hpstudy.cli._output import _describe, _one_line, printable
from hpstudy.errors import (
    ConfigError,
    HpstudyError,
    StorageError,
    StudyInterrupted,
    TooManyFailuresError,
)
from hpstudy.report.cli import HANDLERS as _REPORT_HANDLERS
from hpstudy.storage import paused_gc

__all__ = ["MAX_JOBS", "MAX_SEED", "MAX_TRIALS", "load_callable", "main", "printable"]


_COMMANDS = {"run": _cmd_run, "resume": _cmd_resume, "status": _cmd_status, "export": _cmd_export,
             "check": _cmd_check,
             "audit": _cmd_audit, "confirm": _cmd_confirm, **_REPORT_HANDLERS}
#: commands that only read a study (the cyclic garbage collector stays off while they run)
_READING = frozenset({"status", "export", "check"})


def _fail(command: str, message: str, code: int) -> int:
    try:
        print(printable(f"hpstudy {command}: {_one_line(message)}"), file=sys.stderr)
    except OSError:  # stderr gone too: the exit code says it
        pass
    return code


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hpstudy`` command; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; 2 on bad input, an unreadable study, an output that
        cannot be written or ``--max-failures`` reached; 130 when interrupted
        (143 on SIGTERM); 141 when stdout's reader went away; 1 on an
        unexpected error. Every error is one line on stderr.
    """
    command, storage = "?", None
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exc:  # --help (0) or a bad argument (2, its line already printed)
            return exc.code if isinstance(exc.code, int) else 2
        command, storage = args.command, getattr(args, "storage", None)
        if command in _READING:  # a short process that builds a large study and no cycles
            with paused_gc():
                return _COMMANDS[command](args)
        return _COMMANDS[command](args)
    except (ConfigError, StorageError, TooManyFailuresError) as exc:
        return _fail(command, f"error: {exc}", 2)
    except HpstudyError as exc:
        return _fail(command, f"error: {exc}", 1)
    except StudyInterrupted as exc:  # Study.run stopped on a signal; the study is released
        again = "confirm" if command == "confirm" else "resume"
        return _fail(command, f"interrupted: {exc.kept} trials kept; resume with "
                              f"`hpstudy {again} {storage}`", 128 + exc.signum)
    except KeyboardInterrupt:
        hint = (" (finished trials are kept: `hpstudy resume` continues the study)"
                if command in ("run", "resume") else "")
        return _fail(command, f"interrupted{hint}", 130)
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except Exception as exc:
        if os.environ.get("HPSTUDY_DEBUG"):
            raise
        return _fail(command, f"unexpected error: {_describe(exc)} (set HPSTUDY_DEBUG=1 for "
                              f"the traceback, and please report it)", 1)
