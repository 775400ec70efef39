"""Figures of the statistics: importance, model vs tuning vs noise, studies side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hpstudy.report._figures import _TAB10, BEST, PRUNED, _best_line, _ylabel, new_figure
from hpstudy.report._records import History, ImportanceData, TopTrial, degenerate

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hpstudy.stats import Decomposition

__all__ = ["compare_best_figure", "compare_history_figure", "decomposition_figure",
           "importance_figure"]


def importance_figure(data: ImportanceData) -> Figure:
    """Share of the metric's variance per parameter, with the trees' range clipped to [0, 1]."""
    rows = data.rows
    fig = new_figure(8, 0.42 * len(rows) + 1.4)
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    share = np.array([r.share for r in rows])
    err = np.array([[max(r.share - r.low, 0.0) for r in rows],
                    [max(r.high - r.share, 0.0) for r in rows]])
    colours = [PRUNED if r.name == "interactions" else _TAB10[0] for r in rows]
    ax.barh(y, share, xerr=err, color=colours, alpha=0.8, capsize=3)
    ax.set_yticks(y, [r.name for r in rows])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the metric's variance (0 = none, 1 = all)")
    ax.set_title(f"Importance (random forest, out-of-bag R² = {data.r2:.2f})", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    return fig


def _sqrt(v: float) -> float:
    return math.sqrt(v) if math.isfinite(v) and v > 0 else 0.0


def decomposition_figure(dec: Decomposition) -> Figure:
    """Left: each source's standard deviation with its interval. Right: the seed's spreads."""
    fig = new_figure(11, 4.2)
    left, mid, right = fig.subplots(1, 3, width_ratios=[1.2, 1, 1])
    labels = {"model": "model change", "tuning": "tuning", "folds": "noise:\nfolds",
              "residual": "noise:\nresidual"}
    keys = list(dec.sources)
    sd = np.array([_sqrt(dec.sources[k][0]) for k in keys])
    lo = np.array([_sqrt(dec.sources[k][1]) for k in keys])
    hi = np.array([_sqrt(dec.sources[k][2]) for k in keys])
    colour = {"model": _TAB10[1], "tuning": _TAB10[0], "folds": PRUNED, "residual": "#bbbbbb"}
    x = np.arange(len(keys))
    err = np.array([np.clip(sd - lo, 0, None), np.clip(hi - sd, 0, None)])
    err = np.where(np.isfinite(err), err, 0.0)
    left.bar(x, sd, yerr=err, color=[colour[k] for k in keys], capsize=4)
    left.set_xticks(x, [labels[k] for k in keys], fontsize=8)
    left.set_ylabel(f"standard deviation of {dec.metric}")
    left.set_title("Where the variation comes from", fontsize=10)
    rows = []
    if dec.across_models is not None:
        rows.append(("across models (best of each)", dec.across_models, _TAB10[1]))
    for m, s in dec.within_models.items():
        rows.append((f"tuning within {m}", s, _TAB10[0]))
    for ax, attr, title in ((mid, "sd", "SD of mean scores"), (right, "range", "Range of mean scores")):
        if not rows:
            ax.text(0.5, 0.5, "not enough configurations", ha="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        xs = np.arange(len(rows))
        vals = np.array([getattr(s, attr) for _, s, _ in rows])
        ints = np.array([getattr(s, f"{attr}_interval") for _, s, _ in rows])
        e = np.array([np.clip(vals - ints[:, 0], 0, None), np.clip(ints[:, 1] - vals, 0, None)])
        ys = xs[::-1]
        flat = [degenerate((float(lo), float(hi))) for lo, hi in ints]
        e = np.where(np.isfinite(e) & ~np.array(flat)[None, :], e, 0.0)
        ax.barh(ys, vals, xerr=e, color=[c for *_, c in rows], capsize=4, alpha=0.85)
        for y, v, f in zip(ys, vals, flat, strict=True):
            if f:
                ax.annotate("no interval", (v, y), xytext=(4, 0), textcoords="offset points",
                            va="center", fontsize=7, color="#555555")
        ax.set_yticks(ys, [r[0] for r in rows], fontsize=8)
        ax.set_xlabel(f"{'SD' if attr == 'sd' else 'best - worst'} of the mean {dec.metric}")
        ax.set_title(f"{title}:\nmodel change vs tuning", fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    left.grid(alpha=0.3, axis="y")
    return fig


def compare_history_figure(histories: Sequence[tuple[str, History]], metric: str,
                           goal: str) -> Figure:
    """Best-so-far of several studies against trial number."""
    fig = new_figure(9, 4)
    ax = fig.subplots()
    for i, (name, h) in enumerate(histories):
        ok = np.array(h.states) == "complete"
        ax.step(h.numbers, _best_line(h.numbers, h.values, ok, goal), where="post",
                color=_TAB10[i % len(_TAB10)], lw=1.8, label=name)
    ax.set_xlabel("trial number")
    ax.set_ylabel(f"best so far: {_ylabel(metric, goal)}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def compare_best_figure(rows: Sequence[tuple[str, TopTrial]], metric: str, goal: str) -> Figure:
    """Each study's best trial: fold values, mean and interval."""
    fig = new_figure(8, 0.55 * len(rows) + 1.4)
    ax = fig.subplots()
    for i, (_name, top) in enumerate(rows):
        y = len(rows) - 1 - i
        colour = _TAB10[i % len(_TAB10)]
        if top.interval is not None:
            ax.plot(top.interval, [y, y], color=colour, lw=3, alpha=0.6)
        ax.scatter(top.folds, [y] * len(top.folds), s=10, color=PRUNED, zorder=2)
        ax.scatter([top.value], [y], s=36, color=BEST, zorder=3)
    ax.set_yticks(range(len(rows)), [f"{n}\n(trial {t.number})" for n, t in rows][::-1],
                  fontsize=8)
    ax.set_xlabel(f"{_ylabel(metric, goal)}: best trial's mean (black), interval, folds (grey)")
    ax.grid(alpha=0.3, axis="x")
    return fig
