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

from hpstudy.errors import ConfigError

__all__ = ["HANDLERS", "add_commands"]


def _model(value: str) -> str | None:
    return None if value.lower() in ("", "none") else value


def _cmd_report(args: argparse.Namespace) -> int:
    from hpstudy.report import write_html

    if args.watch is not None and args.watch <= 0:
        raise ConfigError(f"--watch: must be a number of seconds > 0 (got {args.watch})")
    output = args.output or os.path.splitext(args.storage)[0] + ".html"
    while True:
        path = write_html(args.storage, output, model=args.model, top_k=args.top,
                          figures_dir=args.figures)
        print(f"report written to {path}", flush=True)
        if args.watch is None:
            return 0
        try:
            time.sleep(args.watch)
        except KeyboardInterrupt:  # pragma: no cover - interactive
            return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from hpstudy.report import analyze_text

    sys.stdout.write(analyze_text(args.storage, args.format, model=args.model, top_k=args.top))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from hpstudy.report import compare, write_compare_html
    from hpstudy.report._compare import compare_text

    comp = compare(args.storages, model=args.model)
    sys.stdout.write(compare_text(comp, args.format))
    if args.output:
        path = write_compare_html(comp, args.output, figures_dir=args.figures)
        print(f"comparison written to {path}")
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
    rep.set_defaults(func=_cmd_report)
    ana = subparsers.add_parser("analyze", help="a study's statistics as text, Markdown or JSON")
    ana.add_argument("storage", help="the study's SQLite file")
    ana.add_argument("--format", choices=["text", "md", "json"], default="text")
    ana.add_argument("--top", type=int, default=10, help="rows of the top-trials table")
    ana.add_argument("--model", type=_model, default="auto", help=model_help)
    ana.set_defaults(func=_cmd_analyze)
    com = subparsers.add_parser("compare", help="several studies side by side")
    com.add_argument("storages", nargs="+", help="the studies' SQLite files")
    com.add_argument("--format", choices=["text", "md"], default="text")
    com.add_argument("-o", "--output", default=None, help="also write an HTML page here")
    com.add_argument("--figures", default=None, metavar="DIR",
                     help="also write every figure as PNG and SVG into DIR")
    com.add_argument("--model", type=_model, default="auto", help=model_help)
    com.set_defaults(func=_cmd_compare)
