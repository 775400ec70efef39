"""One self-contained HTML page: inline CSS, figures as base64 PNG, no script, no link out.

Every string that comes from a study (names, parameters, values, errors) goes
through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from html import escape as esc
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpstudy.report._build import FigureSpec, StudyReport, report_figures
from hpstudy.report._records import (
    CurvesData,
    DistributionsData,
    ImportanceData,
    Section,
    SettingsData,
    TopTrial,
    duration_text,
    interval_text,
    param_text,
)

__all__ = ["figure_html", "page", "section_html", "study_page", "table_html"]

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hpstudy.stats import Decomposition

log = logging.getLogger("hpstudy.report")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;
margin:0 auto;padding:1.5em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:1.8em}nav{font-size:.9em;color:#555}nav a{margin-right:.8em;color:#1f5fa0}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:.8em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.88em;margin-top:.2em}
p.reason{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em .8em}
p.note{color:#555;font-size:.9em;margin:.3em 0}p.words{font-size:1.02em}
"""


def _fmt(v: Any, digits: int = 4) -> str:
    if isinstance(v, float):
        return f"{v:.{digits}g}" if math.isfinite(v) else "-"
    return str(v)


def table_html(columns: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = (),
               caption: str | None = None) -> str:
    """An HTML table of escaped cells (floats with 4 significant digits)."""
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<tr>" + "".join(f"<th>{esc(str(c))}</th>" for c in columns) + "</tr>")
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            cells.append(f"<td{cls}>{esc(_fmt(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def figure_html(name: str, make: Callable[[], Figure], figures_dir: Path | None,
                prefix: str = "", caption: str = "") -> str:
    """Draw a figure, embed it as a base64 PNG, and save PNG + SVG copies if asked."""
    try:
        with warnings.catch_warnings():  # glyphs missing from the font (CJK) show as boxes
            warnings.filterwarnings("ignore", message="Glyph .* missing", category=UserWarning)
            fig = make()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100)
            if figures_dir is not None:
                fig.savefig(figures_dir / f"{prefix}{name}.png", dpi=150)
                fig.savefig(figures_dir / f"{prefix}{name}.svg")
    except Exception as exc:  # a figure is never worth losing the whole report
        log.warning("figure %s could not be drawn: %s", name, exc, exc_info=True)
        return (f'<p class="reason">The figure "{esc(name)}" could not be drawn '
                f"({esc(type(exc).__name__)}: {esc(str(exc))}).</p>")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (f'<figure><img alt="figure: {esc(name)}" class="figure" '
            f'src="data:image/png;base64,{data}">{cap}</figure>')


def _pct(v: float) -> str:
    return f"{v:.1%}" if math.isfinite(v) else "-"


def _settings(d: SettingsData) -> str:
    parts = [table_html(("setting", "value"), d.rows)]
    if d.space:
        parts.append(table_html(("parameter", "distribution"), d.space, caption="Search space"))
    return "".join(parts)


def _importance(d: ImportanceData) -> str:
    return table_html(("parameter", "share of the metric's variance",
                       "uncertainty (middle 95% of the forest's trees)"),
                      [(r.name, _pct(r.share), f"{_pct(r.low)} to {_pct(r.high)}")
                       for r in d.rows], numeric=(1,))


def _distributions(d: DistributionsData) -> str:
    rows: list[tuple[Any, ...]] = []
    for m, v in d.models.items():
        bf = v.best_folds
        rows.append((m, len(v.means), float(v.means.mean()), v.best, float(bf.mean()),
                     float(bf.std(ddof=1)) if len(bf) > 1 else "-"))
    return table_html(("model", "configurations", "mean of their means", "best trial",
                       "best mean", "best's SD over folds"), rows, numeric=(1, 2, 3, 4, 5))


def _top(d: Sequence[TopTrial]) -> str:
    rows = [(r.rank, r.number, r.value,
             interval_text(r.interval) if r.interval else "one fold: none",
             ", ".join(f"{v:.4g}" for v in r.folds),
             param_text(r.params), duration_text(r.duration))
            for r in d]
    return table_html(("rank", "trial", "mean", "95% interval", "per fold", "parameters",
                       "duration"), rows, numeric=(0, 1, 2))


def _body(sec: Section) -> str:
    d, k = sec.data, sec.key
    if k == "settings":
        return _settings(d)
    if k == "importance":
        return _importance(d)
    if k == "decomposition":
        return _decomposition_tables(d)
    if k == "distributions":
        return _distributions(d)
    if k == "curves":
        return _decisions_table(d)
    if k == "top":
        return _top(d)
    if k == "comparison":
        return "".join(f'<p class="words">{esc(t)}</p>' for t in d.sentences)
    return ""


def _sd_interval(lo: float, hi: float) -> str:
    """A variance interval shown on the standard-deviation scale."""
    return interval_text((math.sqrt(max(lo, 0.0)), math.sqrt(max(hi, 0.0)))
                         if math.isfinite(lo) and math.isfinite(hi) else None)


def _decomposition_tables(dec: Decomposition) -> str:
    labels = {"model": "model change", "tuning": "tuning (configurations within a model)",
              "folds": "noise: folds", "residual": "noise: residual (fold x configuration)"}
    shares = dec.shares
    total = sum(max(v, 0.0) for v, _, _ in dec.sources.values())
    rows = [(labels[s], math.sqrt(v) if v > 1e-12 * total else 0.0, _sd_interval(lo, hi),
             _pct(shares[s])) for s, (v, lo, hi) in dec.sources.items()]
    out = [table_html(("source", f"standard deviation ({dec.metric})",
                       f"{dec.confidence:.0%} interval", "share of the variance"),
                      rows, numeric=(1, 3))]
    spreads = ([("model change: across models (best of each)", dec.across_models)]
               if dec.across_models is not None else [])
    spreads += [(f"tuning: configurations within {m}", s) for m, s in dec.within_models.items()]
    srows = [(name, s.n, s.sd, interval_text(s.sd_interval), s.range,
              interval_text(s.range_interval)) for name, s in spreads]
    if srows:
        out.append(table_html(
            ("spread of mean scores", "configurations", f"SD ({dec.metric})",
             "interval (folds resampled)", f"range: best - worst ({dec.metric})",
             "interval (folds resampled)"),
            srows, numeric=(1, 2, 4),
            caption="Standard deviation and range: model change vs tuning"))
    return "".join(out)


def _decisions_table(data: CurvesData, limit: int = 200) -> str:
    stops = [(n, d) for n, d in data.decisions if d.stop]
    if not stops:
        return ('<p class="note">No trial was stopped early'
                + (" (no stopper was used)." if not data.decisions else ".") + "</p>")
    rows = [(n, "-" if d.fold is None else d.fold, d.step, d.rule,
             "-" if d.bracket is None else d.bracket, d.value,
             "-" if d.threshold is None else d.threshold) for n, d in stops[:limit]]
    more = (f'<p class="note">{len(stops) - limit} more stops not listed.</p>'
            if len(stops) > limit else "")
    return table_html(("trial", "fold", "step", "rule", "rung (bracket)", "its value",
                       "threshold it missed"), rows, numeric=(0, 2, 5, 6),
                      caption="Early-stopping decisions that stopped a trial") + more


def section_html(sec: Section, figures: Sequence[FigureSpec],
                 figures_dir: Path | None, prefix: str = "", level: int = 2) -> str:
    """A section: heading, then its reason, or its tables, figures and notes."""
    out = [f'<section id="{esc(prefix)}{esc(sec.key)}"><h{level}>{esc(sec.title)}</h{level}>']
    if not sec.ok:
        out.append(f'<p class="reason">{esc(sec.reason or "")}</p></section>')
        return "".join(out)
    body = _body(sec)
    if sec.key == "comparison":
        out.append(body)
        body = ""
    out.extend(figure_html(f.name, f.make, figures_dir, prefix, f.caption) for f in figures)
    out.append(body)
    out.extend(f'<p class="note">{esc(n)}</p>' for n in sec.notes)
    out.append("</section>")
    return "".join(out)


def page(title: str, body: str, toc: Sequence[tuple[str, str]] = ()) -> str:
    """The whole document."""
    nav = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in toc)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{esc(title)}</h1><nav>{nav}</nav>{body}</body></html>\n")


def study_page(report: StudyReport, figures_dir: str | os.PathLike | None = None) -> str:
    """The report page of one study."""
    fdir = None if figures_dir is None else Path(figures_dir)
    if fdir is not None:
        fdir.mkdir(parents=True, exist_ok=True)
    figs = report_figures(report)
    body = "".join(section_html(s, figs[k], fdir) for k, s in report.sections.items())
    record = report.record
    if record.phase_note:  # which phase this is, and a link to the other one's page
        link = (f' <a href="{esc(record.phase_link)}">{esc(record.phase_link)}</a>'
                if record.phase_link else "")
        body = f'<p class="phase">{esc(record.phase_note)}{link}</p>' + body
    toc = [(k, s.title) for k, s in report.sections.items()]
    return page(f"hpstudy report: {report.record.name}", body, toc)
