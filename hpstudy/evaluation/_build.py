"""Assembling :class:`Folds` and adding seed repeats (private; see :mod:`hpstudy.evaluation`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.evaluation._folds import Fold, Folds, fold_seed

__all__ = ["build_folds", "with_seed_repeats"]


def build_folds(
    splits: Sequence[Sequence[tuple[np.ndarray, np.ndarray]]],
    *,
    kind: str,
    seed: int,
    n_samples: int,
    n_seeds: int = 1,
    details: dict[str, Any] | None = None,
    base_seeds: dict[tuple[int, int], int] | None = None,
) -> Folds:
    """Folds from ``splits[cv_repeat][split] = (train, val)``, with ``n_seeds`` seeds each.

    Seeds come from :func:`fold_seed`, except that ``base_seeds[(cv_repeat, split)]``, when
    given, is the seed of seed repeat 0.
    """
    n_repeats, n_splits = len(splits), len(splits[0])
    folds = []
    for cv_repeat, passes in enumerate(splits):
        for seed_repeat in range(n_seeds):
            repeat = cv_repeat * n_seeds + seed_repeat
            for split, (train, val) in enumerate(passes):
                folds.append(
                    Fold(
                        index=repeat * n_splits + split,
                        split=split,
                        repeat=repeat,
                        cv_repeat=cv_repeat,
                        seed_repeat=seed_repeat,
                        seed=(
                            base_seeds[(cv_repeat, split)]
                            if base_seeds is not None and seed_repeat == 0
                            else fold_seed(seed, cv_repeat, split, seed_repeat)
                        ),
                        train=train,
                        val=val,
                    )
                )
    return Folds(
        folds=folds,
        kind=kind,
        seed=seed,
        n_samples=n_samples,
        n_splits=n_splits,
        n_repeats=n_repeats,
        n_seeds=n_seeds,
        details=details,
    )


def with_seed_repeats(folds: Folds, n_seeds: int) -> Folds:
    """Run every split ``n_seeds`` times, each with its own initialisation seed.

    Training a network twice on the same data gives two accuracies; seed repeats
    measure that initialisation noise, apart from the noise of the split.

    Parameters
    ----------
    folds : Folds
        Folds without seed repeats (``folds.n_seeds == 1``).
    n_seeds : int
        Seeds per split, >= 1.

    Returns
    -------
    Folds
        ``len(folds) * n_seeds`` tasks. Task ``(cv_repeat, split, seed_repeat)`` trains
        and scores on the same samples as ``(cv_repeat, split, 0)``; seed repeat 0 keeps
        the seed it had in ``folds``. ``repeat = cv_repeat * n_seeds + seed_repeat``.

    Raises
    ------
    ConfigError
        If ``n_seeds < 1`` or ``folds`` already has seed repeats.

    Examples
    --------
    >>> from hpstudy.evaluation import kfold, with_seed_repeats
    >>> folds = with_seed_repeats(kfold(10, n_splits=2, seed=0), 3)
    >>> [(f.split, f.seed_repeat) for f in folds]
    [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]
    """
    if not isinstance(folds, Folds):
        raise ConfigError(f"folds: must be a Folds (got {type(folds).__name__})")
    n_seeds = check_int("n_seeds", n_seeds, 1)
    if folds.n_seeds != 1:
        raise ConfigError(
            f"folds: already has n_seeds={folds.n_seeds}; add seed repeats to the base folds"
        )
    by_pass: list[list[tuple[np.ndarray, np.ndarray]]] = [
        [None] * folds.n_splits for _ in range(folds.n_repeats)  # type: ignore[list-item]
    ]
    for f in folds:
        by_pass[f.cv_repeat][f.split] = (f.train, f.val)
    return build_folds(
        by_pass,
        kind=folds.kind,
        seed=folds.seed,
        n_samples=folds.n_samples,
        n_seeds=n_seeds,
        details=folds.details,
        base_seeds={f.data_key: f.seed for f in folds},
    )
