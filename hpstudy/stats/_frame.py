"""Turn a :class:`~hpstudy.trials.Trials` or its fold frame into a clean score matrix."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import attrs
import numpy as np

from hpstudy.errors import ConfigError
from hpstudy.trials import Goal, Trials

__all__ = ["MODEL_NAMES", "StudyData", "confirm_hint", "model_parameter", "resolve_model",
           "settle_model_levels", "study_data"]

#: Parameter names read as "the architecture" when ``model="auto"`` (case-insensitive).
MODEL_NAMES = ("model", "model_name", "model_type", "arch", "architecture", "network",
               "net", "backbone")


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
    model: str | None  # the parameter (or column) naming the architecture, None if single
    model_note: str  # which architecture column was used, and why
    params: object  # pandas DataFrame of the configurations' parameters (one row each)
    goal: Goal
    metric: str
    dropped: int
    # why each left-out configuration was left out: number -> "pruned", "failed",
    # "running" or "incomplete folds"
    dropped_reasons: dict[int, str] = attrs.field(factory=dict)
    # complete configurations per model level, every level of the study included (0 for a
    # level all of whose configurations were left out); empty without a model factor
    model_counts: dict[str, int] = attrs.field(factory=dict)
    # the left-out configurations of each level, by reason
    model_dropped: dict[str, dict[str, int]] = attrs.field(factory=dict)

    def dropped_note(self) -> str | None:
        """Which configurations were left out and why, or None when none was."""
        if not self.dropped_reasons:
            return None
        by: dict[str, list[int]] = {}
        for number, reason in sorted(self.dropped_reasons.items()):
            by.setdefault(reason, []).append(number)
        parts = [f"{len(v)} {k} ({_numbers(v)})" for k, v in by.items()]
        return (f"{len(self.dropped_reasons)} configurations left out (only configurations "
                f"that completed every fold are analysed): {'; '.join(parts)}")

    def model_notes(self) -> list[str]:
        """One note per model level that lost configurations: how many are left and why."""
        out = []
        for level, reasons in self.model_dropped.items():
            kept = self.model_counts.get(level, 0)
            why = ", ".join(f"{n} {r}" for r, n in reasons.items())
            out.append(f"model {self.model}={level!r}: {kept} complete configuration(s) "
                       f"analysed, {sum(reasons.values())} left out ({why})")
        return out

    def thin_models(self) -> dict[str, int]:
        """The model levels with fewer than 2 complete configurations (level -> count)."""
        return {m: n for m, n in self.model_counts.items() if n < 2}

    def level_text(self, level: str) -> str:
        """``model_name='slow' has 1 complete configuration (4 left out: 3 pruned, 1 failed)``."""
        kept = self.model_counts.get(level, 0)
        reasons = self.model_dropped.get(level, {})
        text = (f"{self.model}={level!r} has {kept} complete configuration"
                f"{'' if kept == 1 else 's'}")
        if reasons:
            why = ", ".join(f"{n} {r}" for r, n in reasons.items())
            text += f" ({sum(reasons.values())} left out: {why})"
        return text

    def without_levels(self, levels: Sequence[str]) -> StudyData:
        """This data without the configurations of the model ``levels``.

        Their complete configurations join :attr:`dropped_reasons` as
        ``"model level dropped"``; :attr:`model_counts` keeps every level.
        """
        if self.models is None:
            return self
        gone = np.isin(self.models, list(levels))
        reasons = dict(self.dropped_reasons)
        reasons.update({int(n): "model level dropped" for n in self.numbers[gone]})
        params = self.params
        if params is not None:
            params = params[~gone].reset_index(drop=True)  # type: ignore[index]
        return attrs.evolve(self, scores=self.scores[~gone], numbers=self.numbers[~gone],
                            models=self.models[~gone], params=params,
                            dropped=len(reasons), dropped_reasons=reasons)


def confirm_hint(model: str) -> str:
    """How to get >= 2 complete configurations of every value of ``model``."""
    return (f"run `hpstudy confirm STUDY --per-model {model}` (Python: "
            f"study.confirm(objective, per_model={model!r})) to re-evaluate the best "
            "configurations of each model without pruning, then analyse that phase")


def settle_model_levels(data: StudyData, requested: str | None, *, stacklevel: int = 2
                        ) -> tuple[StudyData, list[str]]:
    """Apply the rule for model levels with fewer than 2 complete configurations.

    A model comparison needs at least 2 configurations that completed every fold
    in each model level (a level's tuning spread is otherwise confounded with its
    effect). With a model parameter named by the caller (``requested`` is a name)
    such a study is refused; with ``requested="auto"`` the thin levels are dropped
    from the model comparison, with a note and a warning naming each of them.

    Parameters
    ----------
    data : StudyData
        The study's complete configurations (from :func:`study_data`).
    requested : str or None
        The ``model`` argument the caller gave (``"auto"``, a name or None).
    stacklevel : int, default 2
        Passed to :func:`warnings.warn`.

    Returns
    -------
    (StudyData, list of str)
        The data to decompose (without the thin levels) and notes saying which
        levels were dropped and why (empty when none was).

    Raises
    ------
    ConfigError
        When ``requested`` names the model parameter and a level is thin.
    """
    if data.model is None or len(data.model_counts) < 2:
        return data, []
    thin = data.thin_models()
    if not thin:
        return data, []
    texts = "; ".join(data.level_text(level) for level in thin)
    if requested != "auto":
        raise ConfigError(f"model: a model comparison needs >= 2 configurations that completed "
                          f"every fold in each value of {data.model!r}, but {texts}; "
                          f"{confirm_hint(data.model)}, or pass model=None to analyse without "
                          "the model factor")
    kept = [level for level, n in data.model_counts.items() if n >= 2]
    if len(kept) >= 2:
        share = f"the model share is estimated over {', '.join(map(repr, kept))} only"
    else:
        share = ("the model share cannot be estimated" + (
            f"; tuning and noise are those of {data.model}={kept[0]!r} alone" if kept else ""))
    message = f"{texts}; {share}: {confirm_hint(data.model)}"
    warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)
    note = (f"model levels dropped from the model comparison (fewer than 2 complete "
            f"configurations): {texts}; {share}")
    return data.without_levels(list(thin)), [note]


def _numbers(numbers: list[int], limit: int = 12) -> str:
    text = ", ".join(str(n) for n in numbers[:limit])
    return "trials " + text + (f", ... ({len(numbers) - limit} more)" if len(numbers) > limit else "")


def model_parameter(trials: Trials, model: str | None = "auto") -> str | None:
    """The parameter naming the architecture in ``trials``, by the rule of :func:`analyze`.

    Parameters
    ----------
    trials : Trials
        The study's trials.
    model : str or None, default "auto"
        A parameter name (returned when some trial has it, else None), None, or
        ``"auto"``: a categorical parameter named like one of :data:`MODEL_NAMES`.

    Returns
    -------
    str or None
        The parameter's name, or None for a single architecture.
    """
    if model is None:
        return None
    if model != "auto":
        return model if any(model in t.params for t in trials) else None
    import pandas as pd

    rows = [dict(t.params) for t in trials]
    if not rows:
        return None
    frame = pd.DataFrame(rows).add_prefix("params.")
    col, _ = resolve_model(frame, "auto")
    return None if col is None else col[len("params."):]


def resolve_model(frame, model: str | None) -> tuple[str | None, str]:
    """The column naming the architecture, and a note saying which and why.

    ``model`` is a parameter name (``params.<model>`` or a plain column), None for
    a single architecture, or ``"auto"``: a categorical (non-float) parameter named
    like one of :data:`MODEL_NAMES`, else a single architecture.
    """
    if model is None:
        return None, "single architecture (model=None)"
    if not isinstance(model, str):
        raise ConfigError(f"model: must be a parameter name, 'auto' or None (got {model!r})")
    if model != "auto":
        col = f"params.{model}" if f"params.{model}" in frame.columns else model
        if col not in frame.columns:
            raise ConfigError(f"model: no column {model!r} or 'params.{model}' in the trials")
        return col, f"architecture: parameter {model!r} (given)"
    import pandas as pd

    found = []
    for col in frame.columns:
        name = str(col)[len("params."):] if str(col).startswith("params.") else None
        if name is None or name.lower() not in MODEL_NAMES:
            continue
        values = frame[col].dropna()
        if pd.api.types.is_float_dtype(values.dtype):
            continue  # a real-valued parameter is no choice of architecture
        found.append((col, name))
    if len(found) > 1:
        names = ", ".join(repr(n) for _, n in found)
        raise ConfigError(f"model: several parameters look like the architecture ({names}); "
                          "pass model=NAME, or model=None for a single architecture")
    if found:
        col, name = found[0]
        return col, f"architecture: parameter {name!r} (detected by its name)"
    return None, ("single architecture: no categorical parameter named like a model "
                  f"({', '.join(MODEL_NAMES)}); pass model=NAME to name it")


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
    reasons: dict[int, str] = {}
    if isinstance(trials_or_frame, Trials):  # trials without any fold result count too
        reasons.update({t.number: t.state.value for t in trials_or_frame
                        if t.state.value != "complete"})
    if "state" in df.columns:
        bad = df[df["state"] != "complete"]
        reasons.update({int(n): str(st) for n, st in zip(bad["number"], bad["state"],
                                                           strict=True)})
        df = df[df["state"] == "complete"]
    if "fold_state" in df.columns:
        df = df[df["fold_state"] == "complete"]
    values = pd.to_numeric(df["value"], errors="coerce")
    df = df[np.isfinite(values.to_numpy(dtype=float))]
    fold = df["fold"].to_numpy() if "fold" in df.columns else np.zeros(len(df), dtype=int)
    repeat = df["repeat"].to_numpy() if "repeat" in df.columns else np.zeros(len(df), dtype=int)
    df = df.assign(_fold=list(zip(repeat.tolist(), fold.tolist(), strict=True)))
    model_col, model_note = resolve_model(df, model)
    table = df.pivot_table(index="number", columns="_fold", values="value", aggfunc="mean")
    all_folds = table.columns.tolist()
    complete = table.dropna(axis=0, how="any")
    for n in table.index.difference(complete.index):
        reasons.setdefault(int(n), "incomplete folds")
    dropped = len(reasons)
    if len(complete) < 2:
        why = StudyData.dropped_note(attrs.evolve(_EMPTY, dropped_reasons=reasons)) or ""
        raise ConfigError(f"trials: need at least 2 configurations that completed every fold "
                          f"(got {len(complete)} of {len(complete) + dropped}"
                          + (f"; {why}" if why else "") + ")")
    numbers = complete.index.to_numpy()
    first = df.drop_duplicates("number").set_index("number").loc[numbers]
    models = None if model_col is None else first[model_col].astype(str).to_numpy()
    model_counts: dict[str, int] = {}
    model_dropped: dict[str, dict[str, int]] = {}
    if model_col is not None and model_col in frame.columns:
        level_of = {int(n): str(v) for n, v in zip(frame["number"], frame[model_col],
                                                     strict=True)}
        if isinstance(trials_or_frame, Trials):
            name = model_col.removeprefix("params.")
            level_of.update({t.number: str(t.params[name]) for t in trials_or_frame
                             if name in t.params})
        for level in dict.fromkeys(level_of.values()):
            model_counts[level] = 0
        for m in models if models is not None else ():
            model_counts[m] += 1
        for n, reason in reasons.items():
            if n in level_of:
                counts = model_dropped.setdefault(level_of[n], {})
                counts[reason] = counts.get(reason, 0) + 1
    pcols = [c for c in first.columns if c.startswith("params.")]
    params = first[pcols].rename(columns=lambda c: c[len("params."):]).reset_index(drop=True)
    return StudyData(
        scores=complete.to_numpy(dtype=float), numbers=numbers,
        folds=tuple(tuple(f) for f in all_folds), models=models, params=params,
        model=None if model_col is None else model_col.removeprefix("params."),
        model_note=model_note,
        goal=goal, metric=str(metric if metric is not None else "value"), dropped=int(dropped),
        dropped_reasons=reasons, model_counts=model_counts, model_dropped=model_dropped,
    )


_EMPTY = StudyData(scores=np.zeros((0, 0)), numbers=np.zeros(0), folds=(), models=None,
                   model=None, model_note="", params=None, goal=Goal.MAXIMIZE, metric="value",
                   dropped=0)
