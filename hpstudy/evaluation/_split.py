"""Fold constructors on scikit-learn's splitters (private; see :mod:`hpstudy.evaluation`)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.evaluation._build import build_folds
from hpstudy.evaluation._folds import Folds
from hpstudy.evaluation._validate import (
    as_labels,
    check_bool,
    check_class_labels,
    check_n_groups,
    check_n_seeds,
    check_n_splits,
    check_same_length,
    check_seed,
)

__all__ = ["group_kfold", "kfold", "stratified_kfold"]

Pair = tuple[np.ndarray, np.ndarray]



def group_kfold_shuffles() -> bool:
    """Whether this scikit-learn's GroupKFold can shuffle (it learned to in 1.6)."""
    from sklearn.model_selection import GroupKFold

    return "shuffle" in inspect.signature(GroupKFold).parameters


def chunk_passes(pairs: Iterable[Pair], n_repeats: int, n_splits: int) -> list[list[Pair]]:
    listed = list(pairs)
    out = [listed[r * n_splits : (r + 1) * n_splits] for r in range(n_repeats)]
    for passes in out:
        for split, (_, val) in enumerate(passes):
            if len(val) == 0:
                raise ConfigError(
                    f"n_splits: the split left validation fold {split} empty; use fewer splits"
                )
    return out


def _check_repeats(n_repeats: Any, shuffle: bool) -> int:
    n_repeats = check_int("n_repeats", n_repeats, 1)
    if n_repeats > 1 and not shuffle:
        raise ConfigError(
            f"n_repeats: must be 1 when shuffle=False, as every pass would give the same "
            f"split (got {n_repeats})"
        )
    return n_repeats


def kfold(
    n_samples: int,
    n_splits: int = 5,
    *,
    n_repeats: int = 1,
    seed: int = 0,
    shuffle: bool = True,
    n_seeds: int = 1,
) -> Folds:
    """K-fold cross-validation (scikit-learn's ``KFold`` / ``RepeatedKFold``).

    Parameters
    ----------
    n_samples : int
        Number of samples, >= ``n_splits``.
    n_splits : int, default 5
        Folds per pass, >= 2.
    n_repeats : int, default 1
        Passes, each with another shuffle (``RepeatedKFold``).
    seed : int, default 0
        ``random_state`` of the splitter, and root of the folds' seeds.
    shuffle : bool, default True
        Shuffle before splitting; with False the folds are contiguous blocks.
    n_seeds : int, default 1
        Initialisation seeds per split (:func:`with_seed_repeats`).

    Returns
    -------
    Folds
        ``n_splits * n_repeats * n_seeds`` tasks; in each pass every sample is
        in exactly one validation fold.

    Raises
    ------
    ConfigError
        If ``n_splits < 2``, ``n_splits > n_samples``, or ``n_repeats > 1`` without shuffle.

    Examples
    --------
    >>> from hpstudy.evaluation import kfold
    >>> folds = kfold(10, n_splits=5, seed=0)
    >>> len(folds), folds[0].n_train, folds[0].n_val
    (5, 8, 2)
    """
    from sklearn import model_selection as ms

    n_samples = check_int("n_samples", n_samples, 2)
    n_splits = check_n_splits(n_splits, n_samples)
    seed, shuffle = check_seed(seed), check_bool("shuffle", shuffle)
    n_repeats = _check_repeats(n_repeats, shuffle)
    if shuffle:
        cv: Any = ms.RepeatedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    else:
        cv = ms.KFold(n_splits=n_splits)
    pairs = cv.split(np.zeros((n_samples, 1)))
    details = {"splitter": type(cv).__name__, "shuffle": shuffle, "stratified": False,
               "groups": False}
    return build_folds(chunk_passes(pairs, n_repeats, n_splits), kind="kfold", seed=seed,
                       n_samples=n_samples, n_seeds=check_n_seeds(n_seeds), details=details)


def stratified_kfold(
    y: Any,
    n_splits: int = 5,
    *,
    n_repeats: int = 1,
    seed: int = 0,
    shuffle: bool = True,
    n_seeds: int = 1,
) -> Folds:
    """Stratified k-fold (``StratifiedKFold`` / ``RepeatedStratifiedKFold``).

    Every validation fold keeps the class proportions of ``y`` (to within one sample
    a class).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    n_splits : int, default 5
        Folds per pass, >= 2 and <= the size of the smallest class.
    n_repeats : int, default 1
        Passes, each with another shuffle.
    seed : int, default 0
        ``random_state`` of the splitter, and root of the folds' seeds.
    shuffle : bool, default True
        Shuffle each class before splitting.
    n_seeds : int, default 1
        Initialisation seeds per split.

    Returns
    -------
    Folds

    Raises
    ------
    ConfigError
        If ``y`` is not 1-D class labels, or ``n_splits`` is < 2 or larger than the
        smallest class.

    Examples
    --------
    >>> from hpstudy.evaluation import stratified_kfold
    >>> folds = stratified_kfold(["a"] * 6 + ["b"] * 3, n_splits=3)
    >>> [len(f.val) for f in folds]
    [3, 3, 3]
    """
    from sklearn import model_selection as ms

    y = check_class_labels(as_labels("y", y), None)
    n_splits = check_n_splits(n_splits, len(y))
    check_class_labels(y, n_splits)
    seed, shuffle = check_seed(seed), check_bool("shuffle", shuffle)
    n_repeats = _check_repeats(n_repeats, shuffle)
    if shuffle:
        cv: Any = ms.RepeatedStratifiedKFold(
            n_splits=n_splits, n_repeats=n_repeats, random_state=seed
        )
    else:
        cv = ms.StratifiedKFold(n_splits=n_splits)
    pairs = cv.split(np.zeros((len(y), 1)), y)
    details = {"splitter": type(cv).__name__, "shuffle": shuffle, "stratified": True,
               "groups": False, "n_classes": int(len(np.unique(y)))}
    return build_folds(chunk_passes(pairs, n_repeats, n_splits), kind="stratified_kfold",
                       seed=seed, n_samples=len(y), n_seeds=check_n_seeds(n_seeds), details=details)


def group_kfold(
    groups: Any,
    y: Any = None,
    n_splits: int = 5,
    *,
    n_repeats: int = 1,
    seed: int = 0,
    shuffle: bool = True,
    n_seeds: int = 1,
) -> Folds:
    """K-fold that keeps each group on one side (``GroupKFold`` / ``StratifiedGroupKFold``).

    All samples of a group (a photo and its augmented copies, a patient's scans) land
    in the same validation fold, so no group straddles a fold boundary.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        Group label of each sample (see :func:`groups_from_filenames`).
    y : array-like of shape (n_samples,), optional
        Class labels; when given, ``StratifiedGroupKFold`` also balances the classes.
    n_splits : int, default 5
        Folds per pass, >= 2 and <= the number of groups.
    n_repeats : int, default 1
        Passes, each with another shuffle of the groups. The passes draw their shuffles
        one after another from ``np.random.RandomState(seed)``, as scikit-learn's
        ``RepeatedKFold`` does.
    seed : int, default 0
        Root of the shuffles and of the folds' seeds.
    shuffle : bool, default True
        Shuffle the groups (``GroupKFold`` can only do so from scikit-learn 1.6 on;
        ``describe()["shuffle"]`` says what was done). A shuffled ``GroupKFold`` deals
        out equal numbers of groups, so folds differ in size when groups do; the
        ``StratifiedGroupKFold`` used with ``y`` balances samples and classes.
    n_seeds : int, default 1
        Initialisation seeds per split.

    Returns
    -------
    Folds

    Raises
    ------
    ConfigError
        If the arrays are not 1-D or differ in length, there are fewer groups than
        ``n_splits``, or (with ``y``) a class has fewer members than ``n_splits``.

    Examples
    --------
    >>> from hpstudy.evaluation import group_kfold
    >>> folds = group_kfold(["a", "a", "b", "b", "c", "c"], n_splits=3)
    >>> sorted(f.val.tolist() for f in folds)
    [[0, 1], [2, 3], [4, 5]]
    """
    from sklearn import model_selection as ms

    groups = as_labels("groups", groups)
    if y is not None:
        y = check_class_labels(as_labels("y", y), None)
        check_same_length(groups=groups, y=y)
    n_splits = check_n_splits(n_splits, len(groups))
    n_groups = check_n_groups(groups, n_splits)
    if y is not None:
        check_class_labels(y, n_splits)
    seed, shuffle = check_seed(seed), check_bool("shuffle", shuffle)
    stratified = y is not None
    if shuffle and not stratified and not group_kfold_shuffles():
        if check_int("n_repeats", n_repeats, 1) > 1:
            raise ConfigError(
                "n_repeats: GroupKFold cannot shuffle before scikit-learn 1.6, so repeats "
                "would be identical; pass y (StratifiedGroupKFold) or upgrade scikit-learn"
            )
        shuffle = False  # this scikit-learn's GroupKFold is deterministic
    n_repeats = _check_repeats(n_repeats, shuffle)
    rng = np.random.RandomState(seed) if shuffle else None
    cls = ms.StratifiedGroupKFold if stratified else ms.GroupKFold
    X = np.zeros((len(groups), 1))
    pairs: list[Pair] = []
    for _ in range(n_repeats):
        kwargs: dict[str, Any] = {"shuffle": True, "random_state": rng} if shuffle else {}
        pairs.extend(cls(n_splits=n_splits, **kwargs).split(X, y, groups))
    details = {"splitter": cls.__name__, "shuffle": shuffle, "stratified": stratified,
               "groups": True, "n_groups": n_groups}
    return build_folds(chunk_passes(iter(pairs), n_repeats, n_splits),
                       kind="stratified_group_kfold" if stratified else "group_kfold",
                       seed=seed, n_samples=len(groups), n_seeds=check_n_seeds(n_seeds),
                       details=details)
