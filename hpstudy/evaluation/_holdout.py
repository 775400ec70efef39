"""Holdout and user-supplied splits (private; see :mod:`hpstudy.evaluation`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.evaluation._build import build_folds
from hpstudy.evaluation._folds import Folds
from hpstudy.evaluation._split import Pair, chunk_passes
from hpstudy.evaluation._validate import (
    as_index_array,
    as_labels,
    check_class_labels,
    check_n_groups,
    check_n_seeds,
    check_same_length,
    check_seed,
    check_val_size,
)

__all__ = ["from_splits", "holdout"]


def from_splits(
    splits: Iterable[tuple[Any, Any]],
    *,
    n_samples: int | None = None,
    seed: int = 0,
    n_seeds: int = 1,
    kind: str = "custom",
) -> Folds:
    """Folds from your own ``(train, val)`` index pairs, e.g. ``list(cv.split(X, y))``.

    Each pair becomes one split of a single pass. Check grouped data with
    :func:`audit_groups` before trusting such splits.

    Parameters
    ----------
    splits : iterable of (array-like, array-like)
        Training and validation indices of each split; disjoint, without repeats.
    n_samples : int, optional
        Number of samples; defaults to the largest index + 1.
    seed : int, default 0
        Root of the folds' seeds.
    n_seeds : int, default 1
        Initialisation seeds per split.
    kind : str, default "custom"
        Recorded in ``describe()``.

    Returns
    -------
    Folds

    Raises
    ------
    ConfigError
        If a pair is malformed, empty, overlapping, repeats an index or is out of range.

    Examples
    --------
    >>> from hpstudy.evaluation import from_splits
    >>> folds = from_splits([([0, 1], [2, 3]), ([2, 3], [0, 1])])
    >>> folds.n_splits, folds.n_samples
    (2, 4)
    """
    if n_samples is not None:
        n_samples = check_int("n_samples", n_samples, 2)
    if isinstance(splits, (str, bytes)) or not isinstance(splits, Iterable):
        raise ConfigError(f"splits: must be an iterable of (train, val) pairs (got {splits!r})")
    pairs: list[Pair] = []
    for pos, pair in enumerate(splits):
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ConfigError(f"splits[{pos}]: must be a (train, val) pair")
        train = as_index_array(f"splits[{pos}].train", pair[0], n_samples)
        val = as_index_array(f"splits[{pos}].val", pair[1], n_samples)
        common = np.intersect1d(train, val, assume_unique=True)
        if common.size:
            raise ConfigError(
                f"splits[{pos}]: train and val must not overlap "
                f"(index {int(common[0])} is in both; {common.size} shared)"
            )
        pairs.append((train, val))
    if not pairs:
        raise ConfigError("splits: must hold at least one (train, val) pair (got none)")
    if n_samples is None:
        n_samples = 1 + max(int(max(t[-1], v[-1])) for t, v in pairs)
    return build_folds([pairs], kind=str(kind), seed=check_seed(seed), n_samples=n_samples,
                       n_seeds=check_n_seeds(n_seeds), details={"splitter": None, "given": True})


def holdout(
    train_idx: Any = None,
    val_idx: Any = None,
    *,
    n_samples: int | None = None,
    val_size: float | int | None = None,
    y: Any = None,
    groups: Any = None,
    seed: int = 0,
    n_repeats: int = 1,
    n_seeds: int = 1,
) -> Folds:
    """A single validation set: given, or drawn by scikit-learn.

    Two forms:

    * ``holdout(train_idx, val_idx)``: your own split (e.g. a data set's ``valid/``
      folder); the indices must be disjoint, without repeats, within ``n_samples``.
    * ``holdout(n_samples=..., val_size=..., y=..., groups=..., seed=...)``: a random split,
      as ``train_test_split`` draws it (``ShuffleSplit``; ``StratifiedShuffleSplit``
      with ``y``; ``GroupShuffleSplit`` with ``groups``, where ``val_size`` counts groups).
      With both ``y`` and ``groups``, the first fold of a shuffled ``StratifiedGroupKFold``
      with ``round(1 / val_size)`` splits, so ``val_size`` is only approximate.
      ``n_repeats > 1`` draws that many independent splits (repeated holdout).

    Parameters
    ----------
    train_idx, val_idx : array-like of int, optional
        A given split.
    n_samples : int, optional
        Number of samples; inferred from ``y``/``groups`` or the given indices if omitted.
    val_size : float or int, optional
        Fraction in (0, 1) or a count of the validation set, for a drawn split.
    y : array-like, optional
        Class labels to stratify on.
    groups : array-like, optional
        Group labels; no group is split between train and validation.
    seed : int, default 0
        ``random_state`` of the splitter, and root of the folds' seeds.
    n_repeats : int, default 1
        Independent draws (drawn split only).
    n_seeds : int, default 1
        Initialisation seeds per split.

    Returns
    -------
    Folds
        ``n_repeats * n_seeds`` tasks, each with ``split == 0``.

    Raises
    ------
    ConfigError
        On mixing the two forms, overlapping or out-of-range indices, a bad ``val_size``,
        or arrays of other lengths or shapes.

    Examples
    --------
    >>> from hpstudy.evaluation import holdout
    >>> holdout([0, 1, 2, 3], [4, 5])[0].val
    array([4, 5])
    >>> folds = holdout(n_samples=10, val_size=0.3, seed=1)
    >>> folds[0].n_val
    3
    """
    if train_idx is not None or val_idx is not None:
        if train_idx is None or val_idx is None:
            raise ConfigError("train_idx, val_idx: give both or neither")
        for name, v in (("val_size", val_size), ("y", y), ("groups", groups)):
            if v is not None:
                raise ConfigError(f"{name}: cannot be combined with train_idx and val_idx")
        if check_int("n_repeats", n_repeats, 1) != 1:
            raise ConfigError(f"n_repeats: must be 1 for a given split (got {n_repeats})")
        train = as_index_array("train_idx", train_idx, n_samples)
        val = as_index_array("val_idx", val_idx, n_samples)
        common = np.intersect1d(train, val, assume_unique=True)
        if common.size:
            raise ConfigError(
                f"train_idx, val_idx: must not overlap (index {int(common[0])} is in both; "
                f"{common.size} shared)"
            )
        return from_splits([(train, val)], n_samples=n_samples, seed=seed, n_seeds=n_seeds,
                           kind="holdout")
    if val_size is None:
        raise ConfigError(
            "val_size: required unless train_idx and val_idx are given "
            "(holdout(train_idx, val_idx) or holdout(n_samples=..., val_size=...))"
        )
    return _drawn_holdout(n_samples, val_size, y, groups, seed, n_repeats, n_seeds)


def _drawn_holdout(n_samples, val_size, y, groups, seed, n_repeats, n_seeds) -> Folds:
    from sklearn import model_selection as ms

    if y is not None:
        y = check_class_labels(as_labels("y", y), None)
    if groups is not None:
        groups = as_labels("groups", groups)
    if n_samples is not None:
        n_samples = check_int("n_samples", n_samples, 2)
    known = {"n_samples": None if n_samples is None else np.empty(n_samples), "y": y,
             "groups": groups}
    if all(v is None for v in known.values()):
        raise ConfigError("n_samples: required for a drawn holdout without y or groups")
    n_samples = check_same_length(**known)
    if n_samples < 2:
        raise ConfigError(f"n_samples: must be >= 2 (got {n_samples})")
    seed, n_repeats = check_seed(seed), check_int("n_repeats", n_repeats, 1)
    X = np.zeros((n_samples, 1))
    details: dict[str, Any] = {"stratified": y is not None, "groups": groups is not None}
    cv: Any = None
    if groups is not None:
        n_groups = check_n_groups(groups, 2)
        details["n_groups"] = n_groups
        if y is not None:
            if not isinstance(val_size, float):
                raise ConfigError(
                    f"val_size: must be a fraction with y and groups (got {val_size!r})"
                )
            check_val_size(val_size, n_groups, "groups")
            k = max(2, round(1.0 / val_size))
            check_n_groups(groups, k)
            rng = np.random.RandomState(seed)
            pairs = [next(ms.StratifiedGroupKFold(k, shuffle=True, random_state=rng)
                          .split(X, y, groups)) for _ in range(n_repeats)]
            details.update(splitter="StratifiedGroupKFold", val_fraction=1.0 / k)
        else:
            cv = ms.GroupShuffleSplit(n_splits=n_repeats, random_state=seed,
                                           test_size=check_val_size(val_size, n_groups, "groups"))
            pairs = list(cv.split(X, None, groups))
    else:
        val_size = check_val_size(val_size, n_samples, "samples")
        if y is not None:
            cv = ms.StratifiedShuffleSplit(n_splits=n_repeats, test_size=val_size,
                                           random_state=seed)
            try:
                pairs = list(cv.split(X, y))
            except ValueError as exc:  # too few members or too small a side for the classes
                raise ConfigError(f"val_size, y: cannot stratify this split: {exc}") from exc
        else:
            cv = ms.ShuffleSplit(n_splits=n_repeats, test_size=val_size, random_state=seed)
            pairs = list(cv.split(X))
    if cv is not None:
        details["splitter"] = type(cv).__name__
    details.update(val_size=val_size, shuffle=True)
    return build_folds(chunk_passes(iter(pairs), n_repeats, 1), kind="holdout", seed=seed,
                       n_samples=n_samples, n_seeds=check_n_seeds(n_seeds), details=details)
