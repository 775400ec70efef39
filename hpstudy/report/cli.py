"""The ``report``, ``analyze`` and ``compare`` subcommands of ``hpstudy``.

:func:`add_commands` registers them on the main parser's subparsers; each sets
``func`` (the handler, returning an exit code) on its namespace.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

import attrs

from hpstudy.errors import ConfigError, StorageError

__all__ = ["HANDLERS", "add_commands"]


PHASES = ("search", "confirm")


def _model(value: str) -> str | None:
    return None if value.lower() in ("", "none") else value


def _out(text: str) -> None:
    from hpstudy.report import printable

    sys.stdout.write(printable(text))
    sys.stdout.flush()


def _html_name(storage: str, phase: str) -> str:
    """The default HTML file of a phase's report: ``s.html``, ``s.confirm.html``."""
    return os.path.splitext(storage)[0] + (".confirm" if phase == "confirm" else "") + ".html"


def _load_confirm(storage: str):
    """The study file's confirm phase, read-only (nothing is written, not even a table)."""
    from hpstudy.storage import SQLiteStorage
    from hpstudy.study import Study

    return Study.load_confirm(SQLiteStorage(storage, read_only=True))


def _confirm_phase(storage: str):
    """The study file's confirm phase (a Study), or None when it holds none."""
    try:
        return _load_confirm(storage)
    except StorageError:  # the file holds no confirm phase (or cannot show it)
        return None


def _record(storage: str, phase: str, html: bool = False):
    """The phase of the study file to report on, with a pointer to the other phase.

    The search's report says when the file also holds a confirm phase (its
    analysis is the balanced, unpruned one) and how to see it; the confirm
    phase's report says what it re-evaluated and points back to the search.
    ``html``: also link the other phase's page (its default file name).
    """
    from hpstudy.report import load_study_data

    if not os.path.isfile(storage):
        raise StorageError(f"storage {storage!r}: no such file")
    # "./" keeps a file name such as "javascript:x.html" a relative path
    link = "./" + os.path.basename(_html_name(storage, "search" if phase == "confirm"
                                              else "confirm")) if html else None
    if phase == "confirm":
        record = load_study_data(_load_confirm(storage))  # its error says how to make one
        head = record.phase_note or "Confirm phase of the search."
        note = f"{head} The search's own report: hpstudy report {storage}."
        return attrs.evolve(record, source=storage, phase_note=note, phase_link=link)
    record = load_study_data(storage)
    confirm = _confirm_phase(storage)
    if confirm is None:
        return record
    n, seeds = len(confirm.trials), (confirm.annotations or {}).get("seeds", 1)
    note = (f"This file also holds a confirm phase: {n} of this search's best configurations "
            f"re-evaluated to the end without pruning ({seeds} seed(s) per split). With early "
            "stopping its analysis is the balanced, unpruned one, to prefer for model change vs "
            f"tuning vs noise: hpstudy report {storage} --phase confirm (or hpstudy analyze "
            f"{storage} --phase confirm).")
    return attrs.evolve(record, phase_note=note, phase_link=link)


def _cmd_report(args: argparse.Namespace) -> int:
    from hpstudy.report import write_html

    if args.watch is not None and args.watch <= 0:
        raise ConfigError(f"--watch: must be a number of seconds > 0 (got {args.watch})")
    output = args.output or _html_name(args.storage, args.phase)
    while True:
        record = _record(args.storage, args.phase, html=True)
        path = write_html(record, output, model=args.model, top_k=args.top,
                          figures_dir=args.figures)
        _out(f"report written to {path}" + (" (confirm phase)" if args.phase == "confirm" else "")
             + "\n")
        if args.watch is None:
            return 0
        try:
            time.sleep(args.watch)
        except KeyboardInterrupt:  # pragma: no cover - interactive
            return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from hpstudy.report import analyze_text

    record = _record(args.storage, args.phase)
    _out(analyze_text(record, args.format, model=args.model, top_k=args.top))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from hpstudy.report import compare, write_compare_html
    from hpstudy.report._compare import compare_text

    studies = [_record(path, args.phase) for path in args.storages]
    comp = compare(studies, model=args.model)
    _out(compare_text(comp, args.format))
    if args.output:
        path = write_compare_html(comp, args.output, figures_dir=args.figures)
        _out(f"comparison written to {path}\n")
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "report": _cmd_report, "analyze": _cmd_analyze, "compare": _cmd_compare}


def add_commands(subparsers) -> None:
    """Register ``report``, ``analyze`` and ``compare`` on ``hpstudy``'s subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned. Each command's
        namespace gets ``func``, its handler.
    """
    phase_help = ("search (the study) or confirm (its confirm phase: the best configurations "
                  "re-evaluated without pruning by `hpstudy confirm`)")
    model_help = ("parameter naming the model family (default: auto, a categorical parameter "
                  "named like model, model_name, arch, ...; 'none' for one model)")
    rep = subparsers.add_parser("report", help="write a study's report as one offline HTML page")
    rep.add_argument("storage", help="the study's SQLite file")
    rep.add_argument("-o", "--output", default=None, help="HTML file (default: STORAGE.html)")
    rep.add_argument("--figures", default=None, metavar="DIR",
                     help="also write every figure as PNG and SVG into DIR")
    rep.add_argument("--watch", type=float, default=None, metavar="N",
                     help="rewrite the page every N seconds (during a run; Ctrl-C stops)")
    rep.add_argument("--top", type=int, default=10, help="rows of the top-trials table")
    rep.add_argument("--model", type=_model, default="auto", help=model_help)
    rep.add_argument("--phase", choices=PHASES, default="search", help=phase_help
                     + " (default output: STORAGE.confirm.html)")
    rep.set_defaults(func=_cmd_report)
    ana = subparsers.add_parser("analyze", help="a study's statistics as text, Markdown or JSON")
    ana.add_argument("storage", help="the study's SQLite file")
    ana.add_argument("--format", choices=["text", "md", "json"], default="text")
    ana.add_argument("--top", type=int, default=10, help="rows of the top-trials table")
    ana.add_argument("--model", type=_model, default="auto", help=model_help)
    ana.add_argument("--phase", choices=PHASES, default="search", help=phase_help)
    ana.set_defaults(func=_cmd_analyze)
    com = subparsers.add_parser("compare", help="several studies side by side")
    com.add_argument("storages", nargs="+", help="the studies' SQLite files")
    com.add_argument("--format", choices=["text", "md"], default="text")
    com.add_argument("-o", "--output", default=None, help="also write an HTML page here")
    com.add_argument("--figures", default=None, metavar="DIR",
                     help="also write every figure as PNG and SVG into DIR")
    com.add_argument("--model", type=_model, default="auto", help=model_help)
    com.add_argument("--phase", choices=PHASES, default="search",
                     help="the phase of every study to compare: " + phase_help)
    com.set_defaults(func=_cmd_compare)
