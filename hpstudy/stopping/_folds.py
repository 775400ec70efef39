"""How a stopper judges a trial evaluated on several folds, and the noise-aware margin.

Shared by :class:`~hpstudy.stopping.Hyperband`, :class:`~hpstudy.stopping.ASHA` and
:class:`~hpstudy.stopping.MedianStopper` (their ``folds=`` and ``noise=`` arguments,
``early_terminate.folds`` and ``early_terminate.noise`` in a sweep file).

Fold rules (``folds=``):

``"mean"`` (default)
    The trial is judged as one trial: at an iteration ``i`` its value is the mean of
    the ``i``-th values of its folds that reached ``i`` (every fold it started must
    have reached ``i``, else no decision yet); each other trial's value is the mean
    of the same folds (those of them it reached ``i`` on), so like is compared with
    like. A trial is never pruned once one of its folds has finished, and once one
    fold is pruned, the trial's other folds stop at their next report.
``"first"``
    Only the designated first fold (index 0, or the holdout) is judged; the other
    folds run unjudged (and stop at their next report once the trial is pruned).
``"each"``
    Every fold is its own series, judged against the same fold of other trials
    (the behaviour of hpstudy before 0.x: a trial faces every rung k times).

With one split (``fold`` None) the three rules are the same, and W&B's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from hpstudy.errors import ConfigError
from hpstudy.stopping._common import series, with_current
from hpstudy.trials import Report, StopDecision, Trial, TrialState

__all__ = ["FOLD_RULES", "Noise", "check_fold_rule", "fold_gate", "histories_until",
           "mean_series", "parse_noise", "rung_folds", "rung_table", "table_means"]

FOLD_RULES = ("mean", "first", "each")
_FIRST_FOLDS = (None, 0)
Fold = int | None


def check_fold_rule(value: Any) -> str:
    """``value`` if it is one of :data:`FOLD_RULES`, else ConfigError naming ``folds``."""
    if not isinstance(value, str) or value not in FOLD_RULES:
        raise ConfigError(f"folds: must be one of {', '.join(FOLD_RULES)} (got {value!r})")
    return value


def _check_noise_n(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"noise.n: must be an integer >= 1, the validation samples of a "
                          f"fold (got {value!r})")
    return int(value)


def _check_noise_se(value: Any) -> str | None:
    if value is None or value == "fold":
        return value
    raise ConfigError(f"noise.se: must be 'fold' (got {value!r})")


@attrs.frozen(kw_only=True)
class Noise:
    """Where the standard error of a rung value comes from (``early_terminate.noise``).

    A trial is not pruned while its value is within one standard error of the
    rung's threshold (worse by at most ``se``).

    Parameters
    ----------
    n : int, optional
        Validation samples per fold, for a proportion metric (accuracy, error
        rate): ``se = sqrt(p (1 - p) / (n m))`` with ``p`` the threshold (clipped
        to [0, 1]) and ``m`` the number of folds averaged.
    se : {"fold"}, optional
        Estimate the standard error from the fold scores reported at the rung:
        the pooled within-trial standard deviation of the fold values (after
        removing each fold's mean over trials), over ``sqrt(m)``. No margin while
        no trial has two folds at the rung.

    Exactly one of them is given.
    """

    n: int | None = attrs.field(default=None, converter=_check_noise_n)
    se: str | None = attrs.field(default=None, converter=_check_noise_se)

    def __attrs_post_init__(self) -> None:
        if (self.n is None) == (self.se is None):
            raise ConfigError("noise: give exactly one of n (validation samples per fold) "
                              "or se: fold")

    @classmethod
    def parse(cls, value: Any) -> Noise | None:
        """None, a Noise, or a mapping ``{n: 300}`` / ``{se: fold}`` as a Noise (or None)."""
        if value is None or isinstance(value, Noise):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"noise: must be a mapping such as {{n: 300}} or {{se: fold}} "
                              f"(got {value!r})")
        unknown = [k for k in value if k not in ("n", "se")]
        if unknown:
            raise ConfigError(f"noise.{unknown[0]}: unknown key; allowed: n, se")
        return cls(**dict(value))

    def to_dict(self) -> dict[str, Any]:
        """``{"n": n}`` or ``{"se": "fold"}``."""
        return {"n": self.n} if self.n is not None else {"se": self.se}

    def margin(self, threshold: float, n_folds: int, table: dict[int, dict[Fold, float]]) -> float:
        """One standard error of a trial's rung value (a mean of ``n_folds`` folds)."""
        m = max(1, n_folds)
        if self.n is not None:
            p = min(1.0, max(0.0, threshold))
            return math.sqrt(p * (1.0 - p) / (self.n * m))
        return math.sqrt(_pooled_fold_variance(table) / m)


def _pooled_fold_variance(table: dict[int, dict[Fold, float]]) -> float:
    """Within-trial variance of fold values at a rung, each fold's mean over trials removed."""
    rows = [r for r in table.values() if len(r) >= 2]
    if not rows:
        return 0.0
    totals: dict[Fold, list[float]] = {}
    for r in rows:
        for g, v in r.items():
            totals.setdefault(g, []).append(v)
    centre = {g: math.fsum(v) / len(v) for g, v in totals.items()}
    ss, df = 0.0, 0
    for r in rows:
        resid = [v - centre[g] for g, v in r.items()]
        mu = math.fsum(resid) / len(resid)
        ss += math.fsum((x - mu) ** 2 for x in resid)
        df += len(resid) - 1
    return ss / df if df else 0.0


def parse_noise(value: Any) -> Noise | None:
    """The ``noise`` converter of the stoppers: :meth:`Noise.parse`."""
    return Noise.parse(value)


def histories_until(trial: Trial, report: Report) -> dict[Fold, list[float]]:
    """Each fold's finite values, in report order, up to and including ``report``.

    Reports received after ``report`` (other folds, running in parallel) are left
    out, so a decision is the one taken when ``report`` arrived. A report missing
    from ``trial.reports`` is taken as the newest.
    """
    reports: Sequence[Report] = trial.reports
    end = None
    for i in range(len(reports) - 1, -1, -1):
        if reports[i] == report:
            end = i + 1
            break
    chosen = list(reports) if end is None else list(reports[:end])
    out: dict[Fold, list[float]] = {}
    for r in chosen:
        if math.isfinite(r.value):
            out.setdefault(r.fold, []).append(r.value)
    if end is None:
        out.setdefault(report.fold, []).append(report.value)
    return out


def fold_gate(trial: Trial, report: Report, rule: str) -> StopDecision | bool:
    """What the fold rule says before any comparison.

    Returns a stop decision (the trial was already pruned on another fold: this
    fold stops too), False (no decision: a fold ``"first"`` does not judge, or a
    fold of the trial has finished), or True (judge the report).
    """
    if rule == "each":
        return True
    for d in trial.decisions:
        if d.stop:
            return StopDecision(step=report.step, stop=True, rule=d.rule, value=d.value,
                                threshold=d.threshold, bracket=d.bracket, fold=report.fold)
    if any(f.state is TrialState.COMPLETE for f in trial.folds):
        return False
    return not (rule == "first" and report.fold not in _FIRST_FOLDS)


def rung_folds(histories: dict[Fold, list[float]], fold: Fold, iteration: int,
               rule: str) -> tuple[Fold, ...] | None:
    """The folds whose values are averaged at ``iteration``; None: not every started fold
    reached it yet (``"mean"`` waits for them)."""
    if rule != "mean":
        return (fold,)
    if any(len(h) < iteration for h in histories.values()):
        return None
    return tuple(sorted(histories, key=lambda g: -1 if g is None else g))


def mean_series(histories: dict[Fold, list[float]], folds: tuple[Fold, ...]) -> list[float]:
    """The mean over ``folds`` at each iteration all of them reached."""
    length = min(len(histories[g]) for g in folds)
    return [math.fsum(histories[g][i] for g in folds) / len(folds) for i in range(length)]


def rung_table(trials: Iterable[Trial], trial: Trial, histories: dict[Fold, list[float]],
               iteration: int, folds: tuple[Fold, ...] | None = None
               ) -> dict[int, dict[Fold, float]]:
    """Every trial's value at ``iteration`` on each of its folds that reached it.

    ``trial`` is read from ``histories`` (as of the judged report); the others
    from their current records. ``folds`` restricts the folds read (None: all).
    """
    out: dict[int, dict[Fold, float]] = {}
    for t in with_current(trial, trials):
        if t.number == trial.number:
            row = {g: h[iteration - 1] for g, h in histories.items() if len(h) >= iteration}
        else:
            row = {}
            for g in _folds_of(t) if folds is None else folds:
                h = series(t, g)
                if len(h) >= iteration:
                    row[g] = h[iteration - 1]
        if folds is not None:
            row = {g: v for g, v in row.items() if g in folds}
        if row:
            out[t.number] = row
    return out


def _folds_of(trial: Trial) -> list[Fold]:
    return list(dict.fromkeys(r.fold for r in trial.reports))


def table_means(table: dict[int, dict[Fold, float]], folds: tuple[Fold, ...]) -> list[float]:
    """Each trial's mean over the folds of ``folds`` it has at the rung (trials with none left out)."""
    out = []
    for row in table.values():
        vals = [row[g] for g in folds if g in row]
        if vals:
            out.append(math.fsum(vals) / len(vals))
    return out
