"""``hpstudy analyze``: a study's report without figures, as text, Markdown or JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpstudy.report._build import StudyReport
from hpstudy.report._escape import json_printable, printable
from hpstudy.report._records import (
    CurvesData,
    DistributionsData,
    History,
    ImportanceData,
    ParamData,
    Section,
    SettingsData,
    TopTrial,
    duration_text,
    interval_text,
    param_text,
)

if TYPE_CHECKING:
    import pandas as pd

    from hpstudy.stats import Decomposition

__all__ = ["Table", "render", "section_tables", "to_json"]

Row = Sequence[str]
Table = tuple[str, Row, Sequence[Row]]  # (caption, column names, rows of strings)


def _f(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else "-"
    return str(v)


def _pct(v: float) -> str:
    return f"{v:.1%}" if math.isfinite(v) else "-"


def _settings(d: SettingsData) -> list[Table]:
    out: list[Table] = [("", ("setting", "value"), d.rows)]
    if d.space:
        out.append(("Search space", ("parameter", "distribution"), d.space))
    return out


def _history(d: History) -> list[Table]:
    best = [(int(n), float(v)) for n, v, s in zip(d.numbers, d.values, d.states, strict=True)
            if s == "complete" and math.isfinite(v)]
    ends = d.elapsed[np.isfinite(d.elapsed)]
    rows = [("trials", str(len(d.numbers))),
            ("last trial ended after", duration_text(float(ends.max()) if ends.size else None))]
    if best:
        sign = 1 if d.goal == "maximize" else -1
        n, v = max(best, key=lambda p: (sign * p[1], -p[0]))
        rows.append(("best", f"trial {n}: {d.metric} = {_f(v)}"))
    return [("", ("", ""), rows)]


def _params(d: ParamData) -> list[Table]:
    return [("", ("parameter", "scale", "values seen"),
             [(n, kind, _seen(d.frame[n], kind)) for n, kind in d.kinds.items()])]


def _importance(d: ImportanceData) -> list[Table]:
    return [("", ("parameter", "share of variance", "uncertainty (middle 95% of trees)"),
             [(r.name, _pct(r.share), f"{_pct(r.low)} to {_pct(r.high)}") for r in d.rows])]


def _distributions(d: DistributionsData) -> list[Table]:
    rows = [(m, str(len(v.means)), _f(float(v.means.mean())), str(v.best),
             _f(float(v.best_folds.mean())),
             _f(float(v.best_folds.std(ddof=1))) if len(v.best_folds) > 1 else "-")
            for m, v in d.models.items()]
    return [("", ("model", "configurations", "mean of their means", "best trial",
                  "best mean", "best's SD over folds"), rows)]


def _curves(d: CurvesData) -> list[Table]:
    stops = [(str(n), "-" if x.fold is None else str(x.fold), str(x.step), x.rule,
              "-" if x.bracket is None else str(x.bracket), _f(x.value), _f(x.threshold))
             for n, x in d.decisions if x.stop][:50]
    if not stops:
        return []
    return [("Decisions that stopped a trial (first 50)",
             ("trial", "fold", "step", "rule", "rung", "its value", "threshold"), stops)]


def _top(d: Sequence[TopTrial]) -> list[Table]:
    return [("", ("rank", "trial", "mean", "95% interval", "per fold", "parameters"),
             [(str(r.rank), str(r.number), _f(r.value),
               interval_text(r.interval) if r.interval else "one fold: none",
               ", ".join(_f(v) for v in r.folds),
               param_text(r.params)) for r in d])]


def section_tables(sec: Section) -> list[Table]:
    """A section's tables as ``(caption, columns, rows of strings)``."""
    if not sec.ok:
        return []
    tables = _TABLES.get(sec.key)
    return tables(sec.data) if tables is not None else []


def _seen(col: pd.Series, kind: str) -> str:
    if kind == "categorical":
        return ", ".join(sorted(col.astype(str).unique()))
    return f"{col.min():.4g} to {col.max():.4g}"


def _decomposition(dec: Decomposition) -> list[Table]:
    labels = {"model": "model change", "tuning": "tuning", "folds": "noise: folds",
              "residual": "noise: residual"}
    sh = dec.shares
    total = sum(max(v, 0.0) for v, _, _ in dec.sources.values())
    rows = [(labels[s], _f(math.sqrt(v) if v > 1e-12 * total else 0.0),
             interval_text((math.sqrt(max(lo, 0.0)), math.sqrt(max(hi, 0.0))))
             if math.isfinite(lo) and math.isfinite(hi) else interval_text(None),
             _pct(sh[s])) for s, (v, lo, hi) in dec.sources.items()]
    out: list[Table] = [("", ("source", f"SD of {dec.metric}", f"{dec.confidence:.0%} interval",
                              "share of variance"), rows)]
    spreads = ([("across models (best of each)", dec.across_models)]
               if dec.across_models is not None else [])
    spreads += [(f"tuning within {m}", s) for m, s in dec.within_models.items()]
    srows = [(name, str(s.n), _f(s.sd), interval_text(s.sd_interval), _f(s.range),
              interval_text(s.range_interval)) for name, s in spreads]
    if srows:
        out.append(("Standard deviation and range of mean scores: model change vs tuning",
                    ("spread", "configurations", "SD", "interval (folds resampled)",
                     "range (best - worst)", "interval (folds resampled)"), srows))
    return out


# each section's data is its key's record (Section.data is Any), hence Callable[[Any], ...]
_TABLES: dict[str, Callable[[Any], list[Table]]] = {
    "settings": _settings, "history": _history, "params": _params, "importance": _importance,
    "decomposition": _decomposition, "distributions": _distributions, "curves": _curves,
    "top": _top}


def _text_table(cols: Row, rows: Sequence[Row]) -> list[str]:
    # escaped before the widths are taken, so a hostile name cannot shift the columns
    cols = [printable(c) for c in cols]
    rows = [[printable(c) for c in r] for r in rows]
    cells = [cols, *rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(cols))]
    out = []
    if any(cols):
        out += ["  ".join(c.ljust(x) for c, x in zip(cols, w, strict=True)).rstrip(),
                "  ".join("-" * x for x in w)]
    out += ["  ".join(c.ljust(x) for c, x in zip(r, w, strict=True)).rstrip() for r in rows]
    return out


def _md_table(cols: Row, rows: Sequence[Row]) -> list[str]:
    def cell(s: str) -> str:
        return printable(s).replace("|", "\\|").replace("\n", " ")

    head = [c or " " for c in cols]
    return ["| " + " | ".join(cell(c) for c in head) + " |",
            "|" + "|".join("---" for _ in cols) + "|",
            *("| " + " | ".join(cell(c) for c in r) + " |" for r in rows)]


def render(report: StudyReport, fmt: str = "text") -> str:
    """The report as plain text (``"text"``) or Markdown (``"md"``)."""
    md = fmt == "md"
    out = [f"# hpstudy analysis: {report.record.name}" if md
           else f"hpstudy analysis: {report.record.name}", ""]
    if report.record.phase_note:  # which phase this is, and where the other one is
        out += [("> " if md else "") + report.record.phase_note, ""]
    for sec in report.sections.values():
        out += [f"## {sec.title}" if md else sec.title,
                "" if md else "=" * len(sec.title)]
        if not sec.ok:
            out += [sec.reason or "", ""]
            continue
        for caption, cols, rows in section_tables(sec):
            if caption:
                out += [f"**{caption}**" if md else caption, ""]
            out += (_md_table if md else _text_table)(cols, rows) + [""]
        if sec.key == "comparison":
            out += [*sec.data.sentences, ""] if not md else \
                   [s for t in sec.data.sentences for s in (t, "")]
        out += [("> " if md else "") + n for n in sec.notes]
        out.append("")
    return printable("\n".join(out).rstrip() + "\n")


def to_json(report: StudyReport) -> str:
    """The report's tables and sentences as JSON (sections keyed by name)."""
    doc: dict[str, Any] = {"study": report.record.name, "metric": report.record.trials.metric,
                           "goal": report.record.trials.goal.value,
                           "phase": report.record.phase, "phase_note": report.record.phase_note,
                           "sections": {}}
    for key, sec in report.sections.items():
        entry: dict[str, Any] = {"title": sec.title, "available": sec.ok}
        if not sec.ok:
            entry["reason"] = sec.reason
        else:
            entry["tables"] = [{"caption": c, "columns": list(cols), "rows": [list(r) for r in rows]}
                               for c, cols, rows in section_tables(sec)]
            entry["notes"] = list(sec.notes)
            if key == "comparison":
                entry["sentences"] = list(sec.data.sentences)
                entry["best"], entry["runner_up"] = sec.data.best, sec.data.runner_up
        doc["sections"][key] = entry
    return json_printable(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
