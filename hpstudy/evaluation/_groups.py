"""Group integrity: auditing splits for leaks, and groups from file names (private).

See :mod:`hpstudy.evaluation`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

import attrs
import numpy as np

from hpstudy.errors import ConfigError
from hpstudy.evaluation._folds import Fold, Folds
from hpstudy.evaluation._validate import as_index_array, as_labels

__all__ = ["AUGMENTED_COPY_PATTERN", "GroupAudit", "GroupLeak", "audit_groups",
           "groups_from_filenames"]

#: File names of augmented copies in the jellyfish data set: ``aug-<k>-<source>``.
AUGMENTED_COPY_PATTERN = r"aug-\d+-(?P<source>.+)"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@attrs.frozen(kw_only=True)
class GroupLeak:
    """A group found on both sides of one fold.

    Attributes
    ----------
    group : object
        The group label.
    fold : int
        The fold's index (its position in the audited splits).
    n_in_train, n_in_val : int
        How many of the group's samples are in that fold's training and validation sets.
    """

    group: Any
    fold: int
    n_in_train: int
    n_in_val: int


@attrs.frozen(kw_only=True)
class GroupAudit:
    """The result of :func:`audit_groups`.

    Attributes
    ----------
    leaks : tuple of GroupLeak
        Every (group, fold) with samples in both training and validation, by fold then group.
    n_folds : int
        Folds audited.
    n_groups : int
        Distinct groups among the samples.
    val_leak_fraction : tuple of float
        For each fold, the fraction of its validation samples whose group also has samples
        in its training set: the share of the score that may be memorised, not learned.
    """

    leaks: tuple[GroupLeak, ...]
    n_folds: int
    n_groups: int
    val_leak_fraction: tuple[float, ...]

    @property
    def ok(self) -> bool:
        """True when no group straddles a fold boundary."""
        return not self.leaks

    @property
    def leaking_groups(self) -> tuple[Any, ...]:
        """The distinct groups that leak in at least one fold, in order of first leak."""
        return tuple(dict.fromkeys(leak.group for leak in self.leaks))

    def summary(self, max_leaks: int = 10) -> str:
        """A few lines of text: the verdict, the leak share of each fold, the first leaks.

        Parameters
        ----------
        max_leaks : int, default 10
            How many leaks to list.

        Returns
        -------
        str
        """
        head = f"Group audit: {self.n_folds} folds, {self.n_groups} groups: "
        if self.ok:
            return head + "OK, no group straddles train and validation."
        lines = [
            head + f"LEAKS: {len(self.leaking_groups)} groups straddle train and validation "
            f"({len(self.leaks)} group-fold pairs).",
            "Validation samples with a group-mate in training: "
            + ", ".join(f"fold {i}: {p:.1%}" for i, p in enumerate(self.val_leak_fraction)),
        ]
        for leak in self.leaks[:max_leaks]:
            lines.append(
                f"  group {leak.group!r} in fold {leak.fold}: "
                f"{leak.n_in_train} in train, {leak.n_in_val} in val"
            )
        if len(self.leaks) > max_leaks:
            lines.append(f"  ... and {len(self.leaks) - max_leaks} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _pairs(folds: Any, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if isinstance(folds, Fold):
        folds = [folds]
    if isinstance(folds, (str, bytes)) or not isinstance(folds, Iterable):
        raise ConfigError(
            f"folds: must be a Folds or a list of (train, val) pairs (got {type(folds).__name__})"
        )
    out = []
    for pos, item in enumerate(folds):
        if isinstance(item, Fold):
            train, val = item.train, item.val
        elif not isinstance(item, (str, bytes)) and hasattr(item, "__len__") and len(item) == 2:
            train, val = item
        else:
            raise ConfigError(f"folds[{pos}]: must be a Fold or a (train, val) pair")
        out.append(
            (as_index_array(f"folds[{pos}].train", train, n),
             as_index_array(f"folds[{pos}].val", val, n))
        )
    if not out:
        raise ConfigError("folds: must hold at least one fold (got none)")
    return out


def audit_groups(folds: Folds | Iterable[Any], groups: Any) -> GroupAudit:
    """Check that no group has samples on both sides of any fold.

    Works on any split: :class:`Folds` built here, or your own ``(train, val)`` index
    pairs, e.g. ``list(KFold(5).split(X))``.

    Parameters
    ----------
    folds : Folds, Fold, or iterable of (array-like, array-like)
        The splits to audit.
    groups : array-like of shape (n_samples,)
        Group label of each sample (see :func:`groups_from_filenames`).

    Returns
    -------
    GroupAudit
        ``.ok`` is True when nothing leaks; ``.leaks`` lists every offending
        (group, fold); ``.summary()`` tells it in words.

    Raises
    ------
    ConfigError
        If ``groups`` is not 1-D, or an index is out of range for it.

    Examples
    --------
    >>> from hpstudy.evaluation import audit_groups
    >>> groups = ["a", "a", "b", "b"]
    >>> audit_groups([([0, 2], [1, 3])], groups).leaking_groups
    ('a', 'b')
    >>> audit_groups([([0, 1], [2, 3])], groups).ok
    True
    """
    groups = as_labels("groups", groups)
    pairs = _pairs(folds, len(groups))
    labels, codes = np.unique(groups, return_inverse=True)
    codes = codes.reshape(-1)
    leaks: list[GroupLeak] = []
    fractions: list[float] = []
    for index, (train, val) in enumerate(pairs):
        in_train = np.bincount(codes[train], minlength=len(labels))
        in_val = np.bincount(codes[val], minlength=len(labels))
        both = np.flatnonzero((in_train > 0) & (in_val > 0))
        leaks.extend(
            GroupLeak(group=_plain(labels[g]), fold=index, n_in_train=int(in_train[g]),
                      n_in_val=int(in_val[g]))
            for g in both
        )
        fractions.append(float(in_val[both].sum() / len(val)))
    return GroupAudit(leaks=tuple(leaks), n_folds=len(pairs), n_groups=len(labels),
                      val_leak_fraction=tuple(fractions))


def groups_from_filenames(
    names: Sequence[str | os.PathLike],
    *,
    pattern: str | re.Pattern[str] | None = AUGMENTED_COPY_PATTERN,
    by_folder: bool = True,
    case_sensitive: bool = False,
) -> np.ndarray:
    """Group files with the file they were derived from.

    A file whose stem (name without extension) matches ``pattern`` is a copy of the file
    whose stem is the pattern's ``source`` group (applied again while it matches, for
    copies of copies); any other file is its own source. The group key is
    ``"<folder>/<source stem>"``: the source's stem prefixed by the file's parent folder
    (the class folder in the jellyfish data set, where ``Moon_jellyfish/aug-3-01.jpg``
    is a copy of ``Moon_jellyfish/01.jpg``).

    Parameters
    ----------
    names : sequence of str or path-like
        File names or paths.
    pattern : str or compiled regex, optional
        Matched in full against the file's stem (ignoring case unless ``case_sensitive``
        and ``pattern`` is a string); needs a named group ``source``. The
        default, :data:`AUGMENTED_COPY_PATTERN`, reads ``aug-<k>-<source>``. None groups
        files by their own stem only.
    by_folder : bool, default True
        Prefix the key with the parent folder's name.
    case_sensitive : bool, default False
        When False the key is case-folded, so ``01.JPG`` and ``aug-0-01.jpg`` are one
        group. Merging names that differ only in case can only coarsen groups, which
        never causes a leak.

    Returns
    -------
    numpy.ndarray of str
        One group key per name.

    Raises
    ------
    ConfigError
        If ``names`` is empty or a single string, or ``pattern`` is invalid or lacks
        the ``source`` group.

    Examples
    --------
    >>> from hpstudy.evaluation import groups_from_filenames
    >>> groups_from_filenames(["Moon/01.jpg", "Moon/aug-7-01.JPG", "blue/01.png"]).tolist()
    ['moon/01', 'moon/01', 'blue/01']
    """
    if isinstance(names, (str, bytes, os.PathLike)):
        raise ConfigError("names: must be a sequence of file names, not a single name")
    names = list(names)
    if not names:
        raise ConfigError("names: must hold at least one file name (got none)")
    regex = _compile(pattern, case_sensitive)
    keys = []
    for pos, name in enumerate(names):
        if not isinstance(name, (str, os.PathLike)):
            raise ConfigError(f"names[{pos}]: must be a str or path (got {type(name).__name__})")
        path = PurePath(name)
        stem = path.stem or path.name
        for _ in range(100):  # copies of copies; bounded against pathological patterns
            match = regex.fullmatch(stem) if regex is not None else None
            if match is None or not match.group("source") or match.group("source") == stem:
                break
            stem = match.group("source")
        key = f"{path.parent.name}/{stem}" if by_folder else stem
        keys.append(key if case_sensitive else key.casefold())
    return np.asarray(keys, dtype=str)


def _compile(pattern: Any, case_sensitive: bool) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    if isinstance(pattern, str):
        try:
            pattern = re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(f"pattern: not a valid regular expression ({exc})") from exc
    if not isinstance(pattern, re.Pattern):
        raise ConfigError(f"pattern: must be a regex string (got {type(pattern).__name__})")
    if "source" not in pattern.groupindex:
        raise ConfigError(
            f"pattern: must have a named group 'source', e.g. (?P<source>.+) "
            f"(got {pattern.pattern!r})"
        )
    return pattern
