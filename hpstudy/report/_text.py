"""``hpstudy analyze``: a study's report without figures, as text, Markdown or JSON."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from hpstudy.report._build import StudyReport
from hpstudy.report._data import Section, duration_text, param_text

__all__ = ["render", "section_tables", "to_json"]

Table = tuple[str, tuple[str, ...], list[tuple[str, ...]]]


def _f(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else "-"
    return str(v)


def _pct(v: float) -> str:
    return f"{v:.1%}" if math.isfinite(v) else "-"


def _iv(lo: float, hi: float) -> str:
    return f"{_f(lo)} to {_f(hi)}" if math.isfinite(lo) and math.isfinite(hi) else "-"


def section_tables(sec: Section) -> list[Table]:
    """A section's tables as ``(caption, columns, rows of strings)``."""
    d, k = sec.data, sec.key
    if not sec.ok:
        return []
    if k == "settings":
        out = [("", ("setting", "value"), [tuple(r) for r in d["rows"]])]
        if d["space"]:
            out.append(("Search space", ("parameter", "distribution"), [tuple(r) for r in d["space"]]))
        return out
    if k == "history":
        best = [(int(n), v) for n, v, s in zip(d.numbers, d.values, d.states, strict=True)
                if s == "complete" and math.isfinite(v)]
        ends = d.elapsed[np.isfinite(d.elapsed)]
        rows = [("trials", str(len(d.numbers))),
                ("last trial ended after", duration_text(float(ends.max()) if ends.size else None))]
        if best:
            sign = 1 if d.goal == "maximize" else -1
            n, v = max(best, key=lambda p: (sign * p[1], -p[0]))
            rows.append(("best", f"trial {n}: {d.metric} = {_f(v)}"))
        return [("", ("", ""), rows)]
    if k == "params":
        return [("", ("parameter", "scale", "values seen"),
                 [(n, kind, _seen(d.frame[n], kind)) for n, kind in d.kinds.items()])]
    if k == "importance":
        return [("", ("parameter", "share of variance", "range over trees"),
                 [(r[0], _pct(r[1]), f"{_pct(r[2])} to {_pct(r[3])}") for r in d["rows"]])]
    if k == "decomposition":
        return _decomposition(d)
    if k == "distributions":
        rows = [(m, str(len(v["means"])), _f(float(v["means"].mean())), str(v["best"]),
                 _f(float(v["best_folds"].mean())),
                 _f(float(v["best_folds"].std(ddof=1))) if len(v["best_folds"]) > 1 else "-")
                for m, v in d["models"].items()]
        return [("", ("model", "configurations", "mean of their means", "best trial",
                      "best mean", "best's SD over folds"), rows)]
    if k == "curves":
        stops = [(str(n), "-" if x.fold is None else str(x.fold), str(x.step), x.rule,
                  "-" if x.bracket is None else str(x.bracket), _f(x.value), _f(x.threshold))
                 for n, x in d["decisions"] if x.stop][:50]
        return [("Decisions that stopped a trial (first 50)",
                 ("trial", "fold", "step", "rule", "rung", "its value", "threshold"), stops)] \
            if stops else []
    if k == "top":
        return [("", ("rank", "trial", "mean", "95% interval", "per fold", "parameters"),
                 [(str(r.rank), str(r.number), _f(r.value),
                   _iv(*r.interval) if r.interval else "-", ", ".join(_f(v) for v in r.folds),
                   param_text(r.params)) for r in d])]
    return []


def _seen(col, kind: str) -> str:
    if kind == "categorical":
        return ", ".join(sorted(col.astype(str).unique()))
    return f"{col.min():.4g} to {col.max():.4g}"


def _decomposition(dec) -> list[Table]:
    labels = {"model": "model change", "tuning": "tuning", "folds": "noise: folds",
              "residual": "noise: residual"}
    sh = dec.shares
    rows = [(labels[s], _f(math.sqrt(max(v, 0.0))),
             _iv(math.sqrt(max(lo, 0.0)), math.sqrt(max(hi, 0.0))) if math.isfinite(lo) else "-",
             _pct(sh[s])) for s, (v, lo, hi) in dec.sources.items()]
    out = [("", ("source", f"SD of {dec.metric}", "95% interval", "share of variance"), rows)]
    srows = []
    spreads = ([("across models (best of each)", dec.across_models)]
               if dec.across_models is not None else [])
    spreads += [(f"tuning within {m}", s) for m, s in dec.within_models.items()]
    for name, s in spreads:
        srows.append((name, str(s.n), _f(s.sd), _iv(*s.sd_interval), _f(s.range),
                      _iv(*s.range_interval)))
    if srows:
        out.append(("Standard deviation and range of mean scores: model change vs tuning",
                    ("spread", "n", "SD", "interval", "range", "interval"), srows))
    return out


def _text_table(cols: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    cells = [cols, *rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(cols))]
    out = []
    if any(cols):
        out += ["  ".join(c.ljust(x) for c, x in zip(cols, w, strict=True)).rstrip(),
                "  ".join("-" * x for x in w)]
    out += ["  ".join(c.ljust(x) for c, x in zip(r, w, strict=True)).rstrip() for r in rows]
    return out


def _md_table(cols: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    head = [c or " " for c in cols]
    return ["| " + " | ".join(cell(c) for c in head) + " |",
            "|" + "|".join("---" for _ in cols) + "|",
            *("| " + " | ".join(cell(c) for c in r) + " |" for r in rows)]


def render(report: StudyReport, fmt: str = "text") -> str:
    """The report as plain text (``"text"``) or Markdown (``"md"``)."""
    md = fmt == "md"
    out = [f"# hpstudy analysis: {report.record.name}" if md
           else f"hpstudy analysis: {report.record.name}", ""]
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
            out += [*sec.data["sentences"], ""] if not md else \
                   [s for t in sec.data["sentences"] for s in (t, "")]
        out += [("> " if md else "") + n for n in sec.notes]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def to_json(report: StudyReport) -> str:
    """The report's tables and sentences as JSON (sections keyed by name)."""
    doc: dict[str, Any] = {"study": report.record.name, "metric": report.record.trials.metric,
                           "goal": report.record.trials.goal.value, "sections": {}}
    for key, sec in report.sections.items():
        entry: dict[str, Any] = {"title": sec.title, "available": sec.ok}
        if not sec.ok:
            entry["reason"] = sec.reason
        else:
            entry["tables"] = [{"caption": c, "columns": list(cols), "rows": [list(r) for r in rows]}
                               for c, cols, rows in section_tables(sec)]
            entry["notes"] = list(sec.notes)
            if key == "comparison":
                entry["sentences"] = list(sec.data["sentences"])
                entry["best"], entry["runner_up"] = sec.data["best"], sec.data["runner_up"]
        doc["sections"][key] = entry
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
