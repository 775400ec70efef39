"""Turn a :class:`~hpstudy.trials.Trials` or its fold frame into a clean score matrix."""

from __future__ import annotations

import attrs
import numpy as np

from hpstudy.errors import ConfigError
from hpstudy.trials import Goal

__all__ = ["StudyData", "study_data"]


@attrs.frozen(kw_only=True)
class StudyData:
    """Completed fold results of a study, as a (configuration x fold) matrix.

    ``scores[i, j]`` is configuration ``numbers[i]``'s metric on fold
    ``folds[j]`` (a ``(repeat, fold)`` pair); only configurations that finished
    every fold are kept (``dropped`` counts the others).
    """

    scores: np.ndarray
    numbers: np.ndarray
    folds: tuple[tuple[int, int], ...]
    models: np.ndarray | None  # model label of each configuration
    params: object  # pandas DataFrame of the configurations' parameters (one row each)
    goal: Goal
    metric: str
    dropped: int


def study_data(trials_or_frame, *, model: str | None = None, goal=None, metric=None) -> StudyData:
    """Extract the completed (configuration x fold) scores of a study."""
    import pandas as pd

    from hpstudy.trials import Trials

    if isinstance(trials_or_frame, Trials):
        frame = trials_or_frame.to_frame(folds=True)
        goal = trials_or_frame.goal if goal is None else goal
        metric = trials_or_frame.metric if metric is None else metric
    elif isinstance(trials_or_frame, pd.DataFrame):
        frame = trials_or_frame
    else:
        raise ConfigError("trials: must be a hpstudy.Trials or a pandas DataFrame "
                          f"(got {type(trials_or_frame).__name__})")
    try:
        goal = Goal(goal if goal is not None else Goal.MAXIMIZE)
    except ValueError:
        raise ConfigError(f"goal: must be 'maximize' or 'minimize' (got {goal!r})") from None
    for col in ("number", "value"):
        if col not in frame.columns:
            raise ConfigError(f"trials: the frame has no column {col!r} (use to_frame(folds=True))")
    df = frame
    if "state" in df.columns:
        df = df[df["state"] == "complete"]
    if "fold_state" in df.columns:
        df = df[df["fold_state"] == "complete"]
    values = pd.to_numeric(df["value"], errors="coerce")
    df = df[np.isfinite(values.to_numpy(dtype=float))]
    fold = df["fold"].to_numpy() if "fold" in df.columns else np.zeros(len(df), dtype=int)
    repeat = df["repeat"].to_numpy() if "repeat" in df.columns else np.zeros(len(df), dtype=int)
    df = df.assign(_fold=list(zip(repeat.tolist(), fold.tolist(), strict=True)))
    model_col = None
    if model is not None:
        model_col = f"params.{model}" if f"params.{model}" in df.columns else model
        if model_col not in df.columns:
            raise ConfigError(f"model: no column {model!r} or 'params.{model}' in the trials")
    table = df.pivot_table(index="number", columns="_fold", values="value", aggfunc="mean")
    all_folds = table.columns.tolist()
    complete = table.dropna(axis=0, how="any")
    dropped = len(table) - len(complete)
    if len(complete) < 2:
        raise ConfigError(f"trials: need at least 2 configurations that completed every fold "
                          f"(got {len(complete)} of {len(table)})")
    numbers = complete.index.to_numpy()
    first = df.drop_duplicates("number").set_index("number").loc[numbers]
    models = None if model_col is None else first[model_col].astype(str).to_numpy()
    pcols = [c for c in first.columns if c.startswith("params.")]
    params = first[pcols].rename(columns=lambda c: c[len("params."):]).reset_index(drop=True)
    return StudyData(
        scores=complete.to_numpy(dtype=float), numbers=numbers,
        folds=tuple(tuple(f) for f in all_folds), models=models, params=params,
        goal=goal, metric=str(metric if metric is not None else "value"), dropped=int(dropped),
    )
