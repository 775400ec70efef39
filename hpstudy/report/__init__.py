"""Reports of a study: one self-contained HTML page, figures, text for the terminal.

* :func:`write_html` -- the report page (settings, history, parameters,
  importance, model vs tuning vs noise, per-model distributions, learning
  curves and early stopping, top trials, best vs runner-up in words);
* :func:`analyze_text` -- the same numbers without figures (text, Markdown, JSON);
* :func:`compare` / :func:`write_compare_html` -- several studies side by side;
* :func:`load_study_data` -- a stored study's trials and settings, read-only,
  without its folds object;
* :func:`progress_line` / :func:`status_text` -- following a run: one log line
  per finished trial, and what ``hpstudy status`` prints;
* :func:`printable` / :func:`json_printable` -- a study's names and values with
  terminal control characters escaped (every text output goes through them).

matplotlib is imported only when a figure is drawn (Agg, no pyplot state).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpstudy.errors import ConfigError
from hpstudy.report._escape import json_printable, printable
from hpstudy.report._load import StudyRecord, load_study_data
from hpstudy.report._progress import progress_line, status_text
from hpstudy.report._records import Section

if TYPE_CHECKING:
    from hpstudy.report._build import StudyReport, build_report
    from hpstudy.report._compare import Comparison, compare

#: names whose modules (the statistics, numpy) load on first use: ``hpstudy status``
#: and the other terminal commands import this package without them (PEP 562)
_LAZY = {"StudyReport": "hpstudy.report._build", "build_report": "hpstudy.report._build",
         "Comparison": "hpstudy.report._compare", "compare": "hpstudy.report._compare"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'hpstudy.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

__all__ = [
    "Comparison",
    "Section",
    "StudyRecord",
    "StudyReport",
    "analyze_text",
    "build_report",
    "compare",
    "json_printable",
    "load_study_data",
    "printable",
    "progress_line",
    "status_text",
    "write_compare_html",
    "write_html",
]

FORMATS = ("text", "md", "json")


def _write(path: str | os.PathLike, text: str) -> Path:
    out = Path(path)
    if out.parent and not out.parent.exists():
        raise ConfigError(f"path: the folder {str(out.parent)!r} does not exist")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)  # a reader (or --watch) never sees half a page
    return out


def write_html(study: Any, path: str | os.PathLike, *, model: str | None = "auto",
               top_k: int = 10, figures_dir: str | os.PathLike | None = None,
               seed: int = 0) -> Path:
    """Write a study's report as one self-contained HTML file.

    Parameters
    ----------
    study : str, os.PathLike, Study, Trials, StudyRecord or StudyReport
        The study: its SQLite file (read-only), a study object, its trials, or
        a report already built with :func:`build_report`.
    path : str or os.PathLike
        The HTML file to write (replaced atomically).
    model : str or None, default "auto"
        The parameter naming the architecture ("auto": found by name, as
        :func:`hpstudy.analyze` does); ignored when no trial has it.
    top_k : int, default 10
        Rows of the top-trials table.
    figures_dir : str or os.PathLike, optional
        Also write every figure there as PNG and SVG (for slides).
    seed : int, default 0
        Seed of the bootstraps and of the importance forest.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import hpstudy, tempfile, os
    >>> from hpstudy.report import write_html
    >>> space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    >>> study = hpstudy.Study(space, seed=0)
    >>> _ = study.run(lambda p, ctx: p["x"], n_trials=8, progress=False)
    >>> out = write_html(study, os.path.join(tempfile.mkdtemp(), "r.html"))
    >>> out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    """
    from hpstudy.report._build import StudyReport, build_report
    from hpstudy.report._html import study_page

    report = study if isinstance(study, StudyReport) else build_report(
        study, model=model, top_k=top_k, seed=seed)
    return _write(path, study_page(report, figures_dir))


def analyze_text(study: Any, format: str = "text", *, model: str | None = "auto",
                 top_k: int = 10, seed: int = 0) -> str:
    """A study's analysis without figures: plain text, Markdown or JSON.

    Parameters
    ----------
    study : str, os.PathLike, Study, Trials, StudyRecord or StudyReport
        The study (see :func:`write_html`).
    format : {"text", "md", "json"}, default "text"
        The output format.
    model, top_k, seed
        As in :func:`write_html`.

    Returns
    -------
    str
    """
    from hpstudy.report._build import StudyReport, build_report
    from hpstudy.report._text import render, to_json

    if format not in FORMATS:
        raise ConfigError(f"format: must be one of {list(FORMATS)} (got {format!r})")
    report = study if isinstance(study, StudyReport) else build_report(
        study, model=model, top_k=top_k, seed=seed)
    return to_json(report) if format == "json" else render(report, format)


def write_compare_html(studies: Any, path: str | os.PathLike, *,
                       model: str | None = "auto",
                       figures_dir: str | os.PathLike | None = None, seed: int = 0) -> Path:
    """Write several studies side by side as one self-contained HTML file.

    Parameters
    ----------
    studies : sequence of study sources, or a Comparison
        See :func:`compare`.
    path : str or os.PathLike
        The HTML file to write.
    model, figures_dir, seed
        As in :func:`write_html`.

    Returns
    -------
    pathlib.Path
    """
    from hpstudy.report._compare import Comparison, compare, compare_page

    comp = studies if isinstance(studies, Comparison) else compare(studies, model=model, seed=seed)
    return _write(path, compare_page(comp, figures_dir))

