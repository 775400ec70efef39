"""Assemble every section of a study's report, and the figures that go with them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from hpstudy.report import _data, _figures, _figures_stats, _settings, _stats
from hpstudy.report._load import StudyRecord, load_study_data
from hpstudy.report._records import Section

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FigureSpec", "StudyReport", "build_report", "report_figures"]

log = logging.getLogger("hpstudy.report")


@attrs.frozen(kw_only=True)
class FigureSpec:
    """A figure of a section, drawn only when ``make()`` is called.

    Attributes
    ----------
    name : str
        File name stem (``"history"``, ``"parallel"``...).
    make : callable
        Returns a :class:`matplotlib.figure.Figure`.
    caption : str
        What the figure shows, in words (empty: the section's notes say it).
    """

    name: str
    make: Callable[[], Figure]
    caption: str = ""


@attrs.frozen(kw_only=True)
class StudyReport:
    """Everything a report shows about one study.

    Attributes
    ----------
    record : StudyRecord
        The study's trials and settings.
    model : str or None
        The parameter naming the architecture (None: a single one).
    colours : dict of str to str
        The colour of each model, the same in every figure.
    sections : dict of str to Section
        In display order: settings, history, params, importance, decomposition,
        distributions, curves, top, comparison.
    """

    record: StudyRecord
    model: str | None
    colours: dict[str, str]
    sections: dict[str, Section]

    def __getitem__(self, key: str) -> Section:
        return self.sections[key]


def build_report(source: Any, *, model: str | None = "auto", top_k: int = 10,
                 seed: int = 0) -> StudyReport:
    """Compute every section of a study's report (no figures drawn yet).

    Parameters
    ----------
    source : str, os.PathLike, Study, Trials or StudyRecord
        The study (see :func:`load_study_data`).
    model : str or None, default "auto"
        The parameter naming the architecture; ignored when no trial has it.
    top_k : int, default 10
        Rows of the top-trials table.
    seed : int, default 0
        Seed of the bootstraps and of the importance forest.

    Returns
    -------
    StudyReport
    """
    from hpstudy.errors import ConfigError

    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ConfigError(f"top_k: must be an integer >= 1 (got {top_k!r})")
    record = load_study_data(source)
    trials = record.trials
    requested, model = model, _data.detect_model(trials, model)
    labels = {str(t.params.get(model, "all")) if model else "all" for t in trials} or {"all"}
    space = record.settings.get("space") or {}
    sections = [
        _settings.settings_section(record),
        _data.history_section(trials),
        _data.params_section(trials, space, model),
        _stats.importance_section(trials, seed=seed),
        _stats.decomposition_section(trials, "auto" if requested == "auto" and model else model,
                                     seed=seed),
        _stats.distributions_section(trials, model),
        _data.curves_section(trials, model),
        _data.top_section(trials, k=top_k),
        _stats.comparison_section(trials, seed=seed),
    ]
    return StudyReport(record=record, model=model, colours=_figures.palette(sorted(labels)),
                       sections={s.key: s for s in sections})


def report_figures(report: StudyReport) -> dict[str, list[FigureSpec]]:
    """For each section, the figures to draw (each drawn only when its ``make`` is called)."""
    s, c = report.sections, report.colours
    metric, goal = report.record.trials.metric, report.record.trials.goal.value
    out: dict[str, list[FigureSpec]] = {k: [] for k in s}
    if s["history"].ok:
        out["history"].append(FigureSpec(
            name="history", make=lambda: _figures.history_figure(s["history"].data),
            caption="Each trial's value against its number (left) and the time it ended "
                    "(right); the black line is the best complete trial so far."))
    if s["params"].ok:
        p = s["params"].data
        out["params"] += [
            FigureSpec(name="parallel", make=lambda: _figures.parallel_figure(p, goal),
                       caption=_figures.parallel_caption(p)),
            FigureSpec(name="slices", make=lambda: _figures.slices_figure(p, c, goal),
                       caption="Each trial's value against one parameter at a time (categories "
                               "jittered sideways so that points do not hide each other).")]
    if s["importance"].ok:
        out["importance"].append(FigureSpec(
            name="importance",
            make=lambda: _figures_stats.importance_figure(s["importance"].data)))
    if s["decomposition"].ok:
        out["decomposition"].append(FigureSpec(
            name="decomposition",
            make=lambda: _figures_stats.decomposition_figure(s["decomposition"].data)))
    if s["distributions"].ok:
        out["distributions"].append(FigureSpec(
            name="distributions",
            make=lambda: _figures.distributions_figure(s["distributions"].data, c, goal)))
    if s["curves"].ok:
        out["curves"].append(FigureSpec(
            name="curves", make=lambda: _figures.curves_figure(s["curves"].data, c, metric, goal)))
    if s["top"].ok:
        out["top"].append(FigureSpec(
            name="top", make=lambda: _figures.top_figure(s["top"].data, metric, goal)))
    return out
