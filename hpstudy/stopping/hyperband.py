"""Hyperband early termination with the semantics of W&B's sweeps engine.

The rules reproduce ``hyperband_stop_runs`` of the ``wandb/sweeps`` engine
(``src/sweeps/hyperband_stopping.py``, current release), decision for decision;
:doc:`/early_stopping` lists them and the places where W&B's documentation
says otherwise.
"""

from __future__ import annotations

import bisect
import math
from numbers import Integral
from typing import Any

import attrs

from hpstudy.errors import ConfigError
from hpstudy.stopping._common import check_eta, check_int, judged, loss, plain_number
from hpstudy.stopping._folds import (
    Noise,
    check_fold_rule,
    fold_gate,
    histories_until,
    mean_series,
    parse_noise,
    rung_folds,
    rung_table,
    table_means,
)
from hpstudy.trials import Goal, Report, StopDecision, Trial, Trials

__all__ = ["Hyperband", "hyperband_brackets"]

# W&B's engine lists the first 100 brackets of a ``min_iter`` schedule; so do we,
# stopping early once a bracket passes this many iterations (no study reports more).
_MAX_BRACKETS = 100
_MAX_ITERATION = 10**12


# ----------------------------------------------------------------------------
# helpers shared with the other stoppers of this package
# ----------------------------------------------------------------------------
def hyperband_brackets(*, min_iter: int | None = None, max_iter: int | None = None,
                       s: int | None = None, eta: float = 3) -> tuple[int, ...]:
    """The bracket iterations of a W&B hyperband ``early_terminate`` section.

    With ``max_iter`` (and ``s``) the brackets are ``int(max_iter / eta**k)`` for
    ``k = 1 .. s``, dropping those below 1, sorted. Otherwise they are
    ``int(min_iter * eta**k)`` for ``k = 0, 1, 2, ...`` (``s`` is ignored, as by
    W&B's engine), listing at most 100 brackets.

    Parameters
    ----------
    min_iter : int, optional
        Iteration of the first bracket (>= 1). Used when ``max_iter`` is None.
    max_iter : int, optional
        The iteration the brackets count down from; takes precedence over ``min_iter``.
    s : int, optional
        Number of brackets below ``max_iter`` (>= 1); required with ``max_iter``.
    eta : float, default 3
        The bracket multiplier, > 1.

    Returns
    -------
    tuple of int
        The bracket iterations, ascending.

    Raises
    ------
    ConfigError
        When neither ``max_iter`` nor ``min_iter`` is given, when ``max_iter`` comes
        without ``s``, when a value breaks its rule, or when no bracket is >= 1.

    Examples
    --------
    >>> hyperband_brackets(max_iter=81, eta=3, s=3)
    (3, 9, 27)
    >>> hyperband_brackets(max_iter=18, eta=3, s=2)
    (2, 6)
    >>> hyperband_brackets(min_iter=3, eta=3)[:4]
    (3, 9, 27, 81)
    """
    eta = check_eta("eta", eta)
    if max_iter is not None:
        max_iter = check_int("max_iter", max_iter, 1)
        if s is None:
            raise ConfigError("s: required with max_iter (the number of brackets)")
        s = check_int("s", s, 1)
        band: float = max_iter
        bands = []
        for _ in range(s):
            band /= eta
            if band < 1:
                break
            bands.append(int(band))
        if not bands:
            raise ConfigError(
                f"max_iter: max_iter / eta must be >= 1 so that there is a bracket "
                f"(got max_iter={max_iter}, eta={eta})"
            )
        return tuple(sorted(bands))
    if min_iter is None:
        raise ConfigError("min_iter: one of min_iter or max_iter (with s) is required")
    if s is not None:
        check_int("s", s, 1)
    band = check_int("min_iter", min_iter, 1)
    bands = []
    # W&B multiplies repeatedly (int * int stays exact, a float eta rounds as W&B's does)
    for _ in range(_MAX_BRACKETS):
        if band > _MAX_ITERATION:
            break
        bands.append(int(band))
        band *= eta
    return tuple(bands)


# ----------------------------------------------------------------------------
# the stopper
# ----------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class Hyperband:
    """Hyperband early termination, as W&B's sweeps engine does it.

    An *iteration* is one reported value: a trial that reported ``n`` finite
    values (of its fold) is at iteration ``n``, whatever the reported steps.
    Once a trial reaches the first bracket, every report is judged against the
    *closest bracket* ``b``, the largest bracket ``<= n``:

    - the threshold of ``b`` is the element at index ``int(n_b / eta)`` of the
      values at iteration ``b`` of every trial (of any state, this one included)
      that reached ``b``, sorted best first;
    - the value judged is the trial's best value so far (``strict=False``) or its
      value at iteration ``b`` (``strict=True``);
    - the trial stops when that value is strictly worse than the threshold.

    With k-fold evaluation the ``folds`` rule says what is judged (see
    :doc:`/early_stopping`): by default the mean of the trial's folds at the
    bracket, compared with the other trials' means over the same folds, and
    never after one of its folds finished. With one split every rule is W&B's.

    Parameters
    ----------
    min_iter : int, optional
        Iteration of the first bracket; brackets ``min_iter * eta**k``, ``k >= 0``.
    max_iter : int, optional
        Brackets ``int(max_iter / eta**k)``, ``k = 1 .. s``; wins over ``min_iter``.
    s : int, optional
        Number of brackets below ``max_iter``; ignored with ``min_iter`` alone.
    eta : float, default 3
        Bracket multiplier; the top ``1/eta`` of trials pass a bracket.
    strict : bool, default True
        Judge the value at the bracket rather than the best so far. True is what
        W&B's engine does when ``strict`` is absent (its schema's default), although
        W&B's documentation says the default is false.
    folds : {"mean", "first", "each"}, default "mean"
        How a trial evaluated on several folds is judged (an hpstudy extension):
        the mean of its folds (``"mean"``), its first fold only (``"first"``), or
        each fold as its own series (``"each"``).
    noise : Noise or mapping, optional
        ``{"n": 300}`` or ``{"se": "fold"}`` (an hpstudy extension): do not stop a
        trial within one standard error of the bracket's threshold
        (:class:`~hpstudy.stopping.Noise`).

    Attributes
    ----------
    brackets : tuple of int
        The bracket iterations, ascending (see :func:`hyperband_brackets`).

    Examples
    --------
    >>> from hpstudy.trials import Report, Trial, Trials
    >>> def trial(n, values):
    ...     reports = tuple(Report(step=i, value=v) for i, v in enumerate(values))
    ...     return Trial(number=n, params={}, reports=reports)
    >>> hb = Hyperband(max_iter=9, eta=3, s=2)
    >>> hb.brackets
    (1, 3)
    >>> done = [trial(0, [0.5, 0.6, 0.7]), trial(1, [0.6, 0.7, 0.8])]
    >>> new = trial(2, [0.4, 0.5, 0.55])
    >>> d = hb.decide(new, Trials(done + [new]))
    >>> d.stop, d.bracket, d.threshold
    (True, 1, 0.7)
    """

    min_iter: int | None = None
    max_iter: int | None = None
    s: int | None = None
    eta: float = 3
    strict: bool = True
    folds: str = attrs.field(default="mean", converter=check_fold_rule)
    noise: Noise | None = attrs.field(default=None, converter=parse_noise)
    brackets: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.strict, bool):
            raise ConfigError(f"strict: must be true or false (got {self.strict!r})")
        for name in ("min_iter", "max_iter", "s"):  # numpy integers become ints
            value = getattr(self, name)
            if isinstance(value, Integral) and not isinstance(value, bool):
                object.__setattr__(self, name, int(value))
        brackets = hyperband_brackets(min_iter=self.min_iter, max_iter=self.max_iter,
                                      s=self.s, eta=self.eta)
        object.__setattr__(self, "brackets", brackets)

    @property
    def rule(self) -> str:
        """The name recorded in decisions: ``"hyperband"`` or ``"hyperband-strict"``."""
        return "hyperband-strict" if self.strict else "hyperband"

    def thresholds(self, trials: Trials, *, fold: int | None = None) -> dict[int, float | None]:
        """Each bracket's current threshold (None where no trial reached it yet).

        Parameters
        ----------
        trials : Trials
            The study's trials.
        fold : int or None, default None
            The fold whose reports are compared (None: holdout reports).

        Returns
        -------
        dict of int to float or None
            Bracket iteration -> threshold, in the metric's own units.
        """
        out: dict[int, float | None] = {}
        for b in self.brackets:
            values = []
            for t in trials:
                v = [r.value for r in t.reports if r.fold == fold and math.isfinite(r.value)]
                if len(v) >= b:
                    values.append(v[b - 1])
            out[b] = self._threshold(values, trials.goal)
        return out

    def _threshold(self, values: list[float], goal: Goal) -> float | None:
        losses = sorted(loss(goal, v) for v in values)
        if not losses:
            return None
        # the same float arithmetic as W&B: r = 1 / eta; index int(r * n)
        return loss(goal, losses[int((1.0 / self.eta) * len(losses))])

    def decide(self, trial: Trial, trials: Trials, report: Report | None = None
               ) -> StopDecision | None:
        """Judge ``report``, a report of ``trial``.

        Parameters
        ----------
        trial : Trial
            The trial that just reported.
        trials : Trials
            Every trial of the study; ``trials.goal`` gives the direction.
        report : Report, optional
            The report to judge (the study passes it); only its fold's series,
            up to it, counts. None judges ``trial.reports[-1]``.

        Returns
        -------
        StopDecision or None
            None before the first bracket (or for a non-finite report); otherwise
            the verdict with its bracket index, the value judged and the threshold.
        """
        last = judged(trial, report)
        if last is None:
            return None
        gate = fold_gate(trial, last, self.folds)
        if gate is not True:
            return gate or None
        goal = trials.goal
        histories = histories_until(trial, last)
        idx = bisect.bisect_right(self.brackets, len(histories[last.fold])) - 1
        if idx < 0:
            return None
        band = self.brackets[idx]
        folds = rung_folds(histories, last.fold, band, self.folds)
        if folds is None:  # "mean": another started fold has not reached the bracket yet
            return None
        fold_se = self.noise is not None and self.noise.se is not None
        table = rung_table(trials, trial, histories, band, None if fold_se else folds)
        threshold = self._threshold(table_means(table, folds), goal)
        assert threshold is not None  # the trial itself reached the bracket
        own = mean_series(histories, folds)
        value = own[band - 1] if self.strict else min(own, key=lambda v: loss(goal, v))
        margin = 0.0 if self.noise is None else self.noise.margin(threshold, len(folds), table)
        stop = loss(goal, value) > loss(goal, threshold) + margin
        return StopDecision(step=last.step, stop=stop, rule=self.rule, value=value,
                            threshold=threshold, bracket=idx, fold=last.fold)

    def to_dict(self) -> dict[str, Any]:
        """The W&B ``early_terminate`` mapping that rebuilds this stopper (what a study stores).

        Examples
        --------
        >>> Hyperband(min_iter=3, eta=3).to_dict()
        {'type': 'hyperband', 'min_iter': 3, 'eta': 3, 'strict': True}
        """
        out: dict[str, Any] = {"type": "hyperband"}
        for name in ("min_iter", "max_iter", "s"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        out.update(eta=plain_number(self.eta), strict=self.strict)
        if self.folds != "mean":
            out["folds"] = self.folds
        if self.noise is not None:
            out["noise"] = self.noise.to_dict()
        return out
