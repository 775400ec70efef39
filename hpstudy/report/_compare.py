"""Several studies side by side: a table of best configurations and shared figures."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from hpstudy.errors import ConfigError
from hpstudy.report import _figures_stats
from hpstudy.report._build import StudyReport, build_report, report_figures
from hpstudy.report._html import figure_html, page, section_html, table_html
from hpstudy.report._records import (
    SettingsData,
    TopTrial,
    duration_text,
    interval_text,
    param_text,
)

__all__ = ["Comparison", "compare", "compare_page", "compare_text"]


@attrs.frozen(kw_only=True)
class Comparison:
    """Reports of several studies and their best trials.

    Attributes
    ----------
    names : tuple of str
        One unique label per study (its name, or its file name when names repeat).
    reports : tuple of StudyReport
        Each study's full report.
    best : tuple of TopTrial or None
        Each study's best trial (None when it has no complete trial).
    notes : tuple of str
        Remarks, such as studies with different metrics.
    """

    names: tuple[str, ...]
    reports: tuple[StudyReport, ...]
    best: tuple[TopTrial | None, ...]
    notes: tuple[str, ...] = ()

    def rows(self) -> list[tuple[str, ...]]:
        """The table of best configurations, one row per study (strings)."""
        out: list[tuple[str, ...]] = []
        for name, rep, top in zip(self.names, self.reports, self.best, strict=True):
            tr = rep.record.trials
            settings: SettingsData = rep.sections["settings"].data
            counts, elapsed = settings.counts, duration_text(settings.elapsed)
            if top is None:
                out.append((name, str(len(tr)), str(counts["complete"]), elapsed, "-", "-", "-",
                            "no complete trial"))
                continue
            iv = interval_text(top.interval) if top.interval else "one fold: none"
            out.append((name, str(len(tr)), str(counts["complete"]), elapsed, str(top.number),
                        f"{top.value:.4g}", iv, param_text(top.params)))
        return out

    COLUMNS = ("study", "trials", "complete", "elapsed", "best trial", "best mean",
               "95% interval", "parameters")


def compare(sources: Sequence[Any], *, model: str | None = "auto", seed: int = 0) -> Comparison:
    """Build the reports of several studies for a side-by-side comparison.

    Parameters
    ----------
    sources : sequence of str, os.PathLike, Study, Trials or StudyRecord
        At least one study (see :func:`load_study_data`).
    model : str or None, default "auto"
        The parameter naming the architecture.
    seed : int, default 0
        Seed of the bootstraps and forests.

    Returns
    -------
    Comparison
    """
    if isinstance(sources, (str, os.PathLike)) or not len(sources):
        raise ConfigError("sources: must be a non-empty list of studies")
    reports = tuple(build_report(s, model=model, top_k=1, seed=seed) for s in sources)
    names = [r.record.name for r in reports]
    if len(set(names)) < len(names):
        names = [f"{n} ({os.path.basename(r.record.source)})" for n, r in zip(names, reports,
                                                                             strict=True)]
    if len(set(names)) < len(names):
        names = [f"{i + 1}. {n}" for i, n in enumerate(names)]
    best = tuple(r.sections["top"].data[0] if r.sections["top"].ok else None for r in reports)
    metrics = {(r.record.trials.metric, r.record.trials.goal.value) for r in reports}
    notes: tuple[str, ...] = ()
    if len(metrics) > 1:
        notes = ("The studies do not share one metric and goal ("
                 + "; ".join(f"{m} {g}" for m, g in sorted(metrics))
                 + "): their numbers are not comparable.",)
    return Comparison(names=tuple(names), reports=reports, best=best, notes=notes)


def compare_page(comp: Comparison, figures_dir: str | os.PathLike | None = None) -> str:
    """The comparison as one self-contained HTML page."""
    fdir = None if figures_dir is None else Path(figures_dir)
    if fdir is not None:
        fdir.mkdir(parents=True, exist_ok=True)
    first = comp.reports[0].record.trials
    metric, goal = first.metric, first.goal.value
    body = ['<section id="best"><h2>Best configuration of each study</h2>',
            table_html(Comparison.COLUMNS, comp.rows(), numeric=(1, 2, 4, 5)),
            *(f'<p class="reason">{n}</p>' for n in comp.notes)]
    hist = [(n, r.sections["history"].data) for n, r in zip(comp.names, comp.reports, strict=True)
            if r.sections["history"].ok]
    if hist:
        body.append(figure_html("compare_history", lambda: _figures_stats.compare_history_figure(
            hist, metric, goal), fdir))
    tops = [(n, t) for n, t in zip(comp.names, comp.best, strict=True) if t is not None]
    if tops:
        body.append(figure_html("compare_best", lambda: _figures_stats.compare_best_figure(
            tops, metric, goal), fdir))
    body.append("</section>")
    toc = [("best", "Best configurations")]
    for i, (name, rep) in enumerate(zip(comp.names, comp.reports, strict=True)):
        anchor = f"s{i}-"
        body.append(f'<section id="{anchor}study"><h2>Study: {_esc(name)}</h2>')
        figs = report_figures(rep)
        for key in ("settings", "comparison", "decomposition", "distributions", "importance"):
            body.append(section_html(rep.sections[key], figs[key], fdir, prefix=anchor, level=3))
        body.append("</section>")
        toc.append((f"{anchor}study", name))
    return page("hpstudy comparison: " + ", ".join(comp.names), "".join(body), toc)


def _esc(s: str) -> str:
    from html import escape

    return escape(s)


def compare_text(comp: Comparison, fmt: str = "text") -> str:
    """The table of best configurations, and each study's best-vs-runner-up sentences."""
    from hpstudy.report._escape import printable
    from hpstudy.report._text import _md_table, _text_table

    md = fmt == "md"
    out = ["# Best configuration of each study" if md else "Best configuration of each study", ""]
    out += (_md_table if md else _text_table)(Comparison.COLUMNS, comp.rows())
    out += ["", *comp.notes]
    for name, rep in zip(comp.names, comp.reports, strict=True):
        sec = rep.sections["comparison"]
        out += ["", f"## {name}" if md else name, ""]
        out += list(sec.data.sentences) if sec.ok else [sec.reason or ""]
    return printable("\n".join(out).rstrip() + "\n")
