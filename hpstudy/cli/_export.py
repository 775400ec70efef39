"""``hpstudy export``: every stored value, exactly, as CSV or JSON."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable, Mapping
from typing import Any

from hpstudy.cli._files import _reading, _require_file
from hpstudy.cli._output import _check_output, _emit, _write_output
from hpstudy.report import load_study_data


def _cmd_export(args: argparse.Namespace) -> int:
    if args.output != "-":
        _check_output(args.output)  # before the study is read
    _require_file(args.storage)
    # the report's loader: read-only, and without importing the study loop (numpy, ...)
    summary = not (args.folds or args.reports)  # a trial's row needs neither
    study = _reading(args.storage, lambda: load_study_data(args.storage, summary=summary))
    rows = _export_rows(study.trials, study.metric, folds=args.folds,
                        reports=args.reports and args.format == "json", count=study.n_reports)
    if args.format == "json":
        text = json.dumps(rows, indent=2, default=_plain_json) + "\n"  # floats as repr: exact
    elif args.reports:
        header = ["trial", "fold", "step", "value"]
        text = _csv_text(header, [{"trial": t.number, "fold": r.fold, "step": r.step,
                                   "value": r.value} for t in study.trials for r in t.reports])
    else:
        header = list(dict.fromkeys(k for row in rows for k in row))
        text = _csv_text(header, rows)
    if args.output == "-":
        _emit(text, end="")
    else:
        _write_output(args.output, text)
    return 0


def _export_rows(trials, metric: str, *, folds: bool, reports: bool,
                 count: Callable[[Any], int] = lambda t: len(t.reports)) -> list[dict[str, Any]]:
    """One dict per trial (or fold result) holding the stored values themselves.

    Not through pandas: a DataFrame turns the ints of a mixed column into floats
    and prints floats rounded; these rows keep every value exactly as stored.
    """
    rows: list[dict[str, Any]] = []
    for t in trials:
        base: dict[str, Any] = {"number": t.number, "state": t.state.value}
        base.update({f"params.{k}": v for k, v in t.params.items()})
        if not folds:
            row = dict(base, value=t.value)
            row.update({f"metrics.{k}": v for k, v in t.metrics.items()})
            row.update(seed=t.seed, duration=t.duration, n_reports=count(t), error=t.error)
            if reports:
                row["reports"] = [_report(r) for r in t.reports]
            rows.append(row)
            continue
        for f in t.folds:
            row = dict(base, fold=f.fold, repeat=f.repeat, fold_seed=f.seed,
                       fold_state=f.state.value, value=f.metrics.get(metric))
            row.update({f"metrics.{k}": v for k, v in f.metrics.items()})
            row.update(duration=f.duration, error=f.error)
            if reports:
                row["reports"] = [_report(r) for r in t.reports if r.fold == f.fold]
            rows.append(row)
    return rows


def _report(r) -> dict[str, Any]:
    return {"step": r.step, "value": r.value, "fold": r.fold}


def _csv_text(header: list[str], rows: list[dict[str, Any]]) -> str:
    """CSV whose cells read back exactly: floats as ``repr``, ints as ints, None empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    native, cell = _NATIVE, _cell
    writer.writerows([[v if type(v) in native else cell(v) for v in map(row.get, header)]
                      for row in rows])
    return buf.getvalue()


def _plain_json(value: Any) -> Any:
    """Read-only mappings (frozen trial records) as dicts, for ``json.dumps``."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot export a {type(value).__name__} as JSON")


#: What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


#: what the csv module writes as :func:`_cell` would (floats as repr, None empty), faster
_NATIVE = frozenset({float, int, type(None)})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # only strings: a negative number stays a number
        return "'" + value if value.startswith(_FORMULA_START) else value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, default=_plain_json)
