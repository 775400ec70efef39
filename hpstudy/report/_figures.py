"""The report's figures (matplotlib, no pyplot state): each function returns a Figure.

One colour per model everywhere (:func:`palette`); failed trials in red, pruned
ones hollow; every axis labelled with the metric and its direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hpstudy.report._records import CurvesData, DistributionsData, History, ParamData, TopTrial

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure

__all__ = ["curves_figure", "distributions_figure", "history_figure", "new_figure",
           "palette", "parallel_figure", "slices_figure", "top_figure"]

FAILED, PRUNED, BEST = "#d62728", "#7f7f7f", "#111111"
_TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
          "#17becf", "#aec7e8", "#ffbb78")


def palette(labels: Sequence[str]) -> dict[str, str]:
    """A fixed colour per model label (sorted order; red and grey are kept for states)."""
    return {lab: _TAB10[i % len(_TAB10)] for i, lab in enumerate(sorted(set(labels)))}


def new_figure(width: float = 9.0, height: float = 4.0) -> Figure:
    """A Figure not tied to pyplot (so no global state and no GUI backend)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _ylabel(metric: str, goal: str) -> str:
    return f"{metric} ({'higher' if goal == 'maximize' else 'lower'} is better)"


def history_figure(h: History) -> Figure:
    """Values per trial (by state) with the best-so-far line, against trial number and time."""
    fig = new_figure(10, 4)
    axes = fig.subplots(1, 2, sharey=True)
    states = np.array(h.states)
    elapsed = h.elapsed
    scale, unit = (60.0, "min") if np.nanmax(np.append(elapsed, 0)) >= 120 else (1.0, "s")
    for ax, x, xlabel in ((axes[0], h.numbers, "trial number"),
                          (axes[1], elapsed / scale, f"elapsed time at the trial's end ({unit})")):
        ok = states == "complete"
        ax.scatter(x[ok], h.values[ok], s=14, color=_TAB10[0], label="complete", zorder=3)
        pr = states == "pruned"
        if pr.any():
            ax.scatter(x[pr], h.values[pr], s=14, facecolors="none", edgecolors=PRUNED,
                       label="pruned (last value)", zorder=2)
        fl = states == "failed"
        if fl.any():
            ax.scatter(x[fl], np.zeros(fl.sum()), s=20, marker="x", color=FAILED,
                       transform=ax.get_xaxis_transform(), label="failed (no value)", zorder=3)
        order = np.argsort(x, kind="stable")
        if np.isfinite(h.best_so_far).any():
            bsf = _best_line(x[order], h.values[order], ok[order], h.goal)
            ax.step(x[order], bsf, where="post", color=BEST, lw=1.5, label="best so far")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(_ylabel(h.metric, h.goal))
    axes[0].legend(loc="best", fontsize=8)
    return fig


def _best_line(x: np.ndarray, values: np.ndarray, ok: np.ndarray, goal: str) -> np.ndarray:
    sign = 1.0 if goal == "maximize" else -1.0
    v = np.where(ok & np.isfinite(values) & np.isfinite(x), sign * values, -np.inf)
    best = np.maximum.accumulate(v)
    return np.where(np.isfinite(best), sign * best, np.nan)


def _num(v: float) -> str:
    return f"{v:.3g}"


def _normalise(column: pd.Series, kind: str,
               integer: bool = False) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Values mapped to [0, 1] and the ticks ``(position, label)`` of the axis.

    Missing values sit at -0.05, below the axis. A column with one value sits
    in the middle.
    """
    if kind == "categorical":
        cats = sorted(column.astype(str).unique())
        pos = {c: (i / (len(cats) - 1) if len(cats) > 1 else 0.5) for i, c in enumerate(cats)}
        step = max(1, math.ceil(len(cats) / 12))  # at most about 12 labels on an axis
        return (column.astype(str).map(pos).to_numpy(float),
                [(pos[c], c) for c in cats[::step]])
    v = column.to_numpy(float)
    log = kind == "log" and np.nanmin(v) > 0
    t = np.log10(v) if log else v
    lo, hi = float(np.nanmin(t)), float(np.nanmax(t))
    if hi <= lo:
        return np.where(np.isnan(t), -0.05, 0.5), [(0.5, _num(float(np.nanmin(v))))]
    if integer and hi - lo <= 8:  # every integer value gets its tick
        marks = np.arange(math.ceil(lo), math.floor(hi) + 1, dtype=float)
    else:
        marks = np.linspace(lo, hi, 5)
    ticks = [(float((m - lo) / (hi - lo)), _num(10 ** m if log else m)) for m in marks]
    return np.where(np.isnan(t), -0.05, (t - lo) / (hi - lo)), ticks


def _is_integer(column: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_integer_dtype(column)) or (
        pd.api.types.is_float_dtype(column)
        and bool(np.all(np.mod(column.dropna().to_numpy(float), 1.0) == 0)))


def parallel_caption(p: ParamData) -> str:
    """What the parallel-coordinates figure shows, and which trials it leaves out."""
    text = ("One line per trial, through the value of each parameter and, on the last axis, "
            "the metric. Complete trials are coloured by their value (the best drawn on top).")
    if (p.frame["state"] != "complete").any():
        text += (" Trials stopped early are drawn too, in grey behind them, at their last "
                 "reported value: they show where the search went and which regions the "
                 "stopper abandoned (Optuna draws complete trials only).")
    return text + " Failed trials have no value and are not drawn."


def parallel_figure(p: ParamData, goal: str = "maximize") -> Figure:
    """Parallel coordinates: complete trials coloured by value, pruned ones grey behind."""
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    names = list(p.kinds)
    fig = new_figure(max(6.0, 1.7 * (len(names) + 1) + 1.0), 4.8)
    ax = fig.subplots()
    cols, ticks = [], []
    for n in names:
        c, t = _normalise(p.frame[n], p.kinds[n], integer=_is_integer(p.frame[n]))
        cols.append(c)
        ticks.append(t)
    val = p.frame["value"].to_numpy(float)
    vt = _normalise(p.frame["value"], "linear")
    cols.append(vt[0])
    ticks.append(vt[1])
    ys = np.column_stack(cols)
    xs = np.arange(ys.shape[1], dtype=float)
    segs = np.stack([np.broadcast_to(xs, ys.shape), ys], axis=-1)
    complete = (p.frame["state"] == "complete").to_numpy()
    many = len(val) >= 500
    if (~complete).any():
        ax.add_collection(LineCollection(list(segs[~complete]), colors=PRUNED, linewidths=0.8,
                                         alpha=0.15 if many else 0.35, zorder=1,
                                         label="stopped early (last value)"))
    cmap = colormaps["viridis" if goal == "maximize" else "viridis_r"]
    if complete.any():
        cv = val[complete]
        lo, hi = float(np.min(cv)), float(np.max(cv))
        norm = Normalize(lo, hi if hi > lo else lo + 1)
        order = np.argsort(cv if goal == "maximize" else -cv)  # the best drawn last, on top
        ax.add_collection(LineCollection(list(segs[complete][order]), colors=cmap(norm(cv[order])),
                                         linewidths=1.2, alpha=0.3 if many else 0.75, zorder=2))
        fig.colorbar(_mappable(cmap, norm), ax=ax, fraction=0.04,
                     label=f"{p.metric} of complete trials")
    for i, axis_ticks in enumerate(ticks):
        ax.axvline(i, color="#444444", lw=0.8, zorder=3)
        for pos, label in axis_ticks:
            ax.annotate(label, (i, pos), xytext=(4, 0), textcoords="offset points", fontsize=8,
                        va="center", ha="left", color="#222222", zorder=4,
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                              "alpha": 0.7})
    scale = {"log": "log scale", "linear": "linear", "categorical": "categories"}
    labels = [f"{n}\n({scale[p.kinds[n]]})" if p.kinds[n] != "linear"
              or not _is_integer(p.frame[n]) else f"{n}\n(integers)" for n in names]
    labels.append(_ylabel(p.metric, goal).replace(" (", "\n("))
    ax.set_xticks(xs, labels, fontsize=9)
    ax.set_xlim(-0.2, xs[-1] + 0.7)
    ax.set_ylim(-0.1, 1.08)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if (~complete).any():
        ax.legend(loc="upper left", bbox_to_anchor=(0, 1.12), fontsize=8, frameon=False)
    return fig


def _mappable(cmap: Colormap, norm: Normalize) -> ScalarMappable:
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array([])
    return sm


def slices_figure(p: ParamData, colours: dict[str, str], goal: str) -> Figure:
    """One panel per parameter: each complete trial's value against the parameter."""
    names = list(p.kinds)
    ncols = min(3, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig = new_figure(max(3.6 * ncols, 6.0), 2.9 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    y = p.frame["value"].to_numpy(float)
    models = p.frame["model"].astype(str).to_numpy()
    states = p.frame["state"].astype(str).to_numpy()
    rng = np.random.default_rng(0)
    for ax, n in zip(axes, names, strict=False):
        col = p.frame[n]
        if p.kinds[n] == "categorical":
            cats = sorted(col.astype(str).unique())
            x = col.astype(str).map({c: i for i, c in enumerate(cats)}).to_numpy(float)
            x = x + rng.uniform(-0.15, 0.15, len(x))
            ax.set_xticks(range(len(cats)), cats, rotation=30 if len(cats) > 4 else 0, fontsize=8)
        else:
            x = col.to_numpy(float)
            if p.kinds[n] == "log" and np.nanmin(x) > 0:
                ax.set_xscale("log")
        stopped = states != "complete"
        if stopped.any():
            ax.scatter(x[stopped], y[stopped], s=10, facecolors="none", edgecolors=PRUNED,
                       alpha=0.6, label="stopped early (last value)")
        for m in sorted(set(models[~stopped])):
            sel = (models == m) & ~stopped
            ax.scatter(x[sel], y[sel], s=10, alpha=0.7, color=colours.get(m, _TAB10[0]),
                       label=m if p.model else "complete")
        ax.set_xlabel(f"{n}" + (" (log scale)" if p.kinds[n] == "log" else ""))
        ax.set_ylabel(p.metric)
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    if p.model or (states != "complete").any():
        axes[0].legend(title=p.model, fontsize=7, title_fontsize=8)
    fig.suptitle(f"{_ylabel(p.metric, goal)} against each parameter", fontsize=10)
    return fig


def distributions_figure(data: DistributionsData, colours: dict[str, str], goal: str) -> Figure:
    """Per model: box of configuration means; its best configuration on each fold."""
    models = data.models
    labels = list(models)
    fig = new_figure(10, 4)
    left, right = fig.subplots(1, 2)
    box = left.boxplot([models[m].means for m in labels], showfliers=False,
                       patch_artist=True, widths=0.5, medianprops={"color": BEST})
    box_patches = box["boxes"]
    rng = np.random.default_rng(0)
    for i, m in enumerate(labels):
        box_patches[i].set(facecolor=colours[m], alpha=0.35)
        y = models[m].means
        left.scatter(i + 1 + rng.uniform(-0.12, 0.12, len(y)), y, s=10, color=colours[m], zorder=3)
    left.set_xticks(range(1, len(labels) + 1), labels)
    left.set_ylabel(f"mean {_ylabel(data.metric, goal)}")
    left.set_title("Configurations' mean over folds", fontsize=10)
    folds = data.folds
    xs = np.arange(len(folds))
    for m in labels:
        right.plot(xs, models[m].best_folds, marker="o", color=colours[m],
                   label=f"{m}: trial {models[m].best}")
    right.set_xticks(xs, [f"{f}" if r == 0 else f"{r}.{f}" for r, f in folds])
    right.set_xlabel("fold (repeat.fold)" if any(r for r, _ in folds) else "fold")
    right.set_ylabel(data.metric)
    right.set_title("Each model's best configuration, fold by fold", fontsize=10)
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return fig


def curves_figure(data: CurvesData, colours: dict[str, str], metric: str, goal: str) -> Figure:
    """Every report per fold, stopped folds ending in a red cross at the stopping step."""
    fig = new_figure(10, 4.2)
    ax = fig.subplots()
    seen = set()
    for c in data.curves:
        first = c.model not in seen
        seen.add(c.model)
        ax.plot(c.steps, c.values, color=colours.get(c.model, _TAB10[0]), lw=0.9,
                alpha=0.35 if c.state == "pruned" else 0.7)
        if first:  # a legend entry at full opacity, whatever the first curve's state
            ax.plot([], [], color=colours.get(c.model, _TAB10[0]), lw=1.5, label=c.model)
        if c.stopped_at is not None and len(c.steps):
            ax.scatter(c.steps[-1:], c.values[-1:], marker="x", color=FAILED, s=18, zorder=3)
    stops = [(d.step, d.threshold) for _, d in data.decisions
             if d.stop and d.threshold is not None]
    if stops:
        ax.scatter([s for s, _ in stops], [t for _, t in stops], marker="_", s=80,
                   color=BEST, zorder=4, label="threshold that stopped a trial")
    if any(c.stopped_at is not None for c in data.curves):
        ax.scatter([], [], marker="x", color=FAILED, label="stopped here")
    ax.set_xlabel("step (as reported with ctx.report, e.g. epoch)")
    ax.set_ylabel(_ylabel(metric, goal))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def top_figure(rows: Sequence[TopTrial], metric: str, goal: str) -> Figure:
    """The top trials' means with their intervals and per-fold values."""
    fig = new_figure(8, 0.45 * len(rows) + 1.3)
    ax = fig.subplots()
    for i, r in enumerate(rows):
        y = len(rows) - 1 - i
        if r.interval is not None:
            ax.plot(r.interval, [y, y], color=_TAB10[0], lw=2.5, alpha=0.6)
        ax.scatter(r.folds, [y] * len(r.folds), s=8, color=PRUNED, zorder=2)
        ax.scatter([r.value], [y], s=30, color=BEST, zorder=3)
    ax.set_yticks(range(len(rows)), [f"#{r.rank}: trial {r.number}" for r in rows][::-1])
    ax.set_xlabel(f"{_ylabel(metric, goal)}: mean (black), interval (blue), folds (grey)")
    ax.grid(alpha=0.3, axis="x")
    return fig
