"""The records :class:`Fold` and :class:`Folds` (private; see :mod:`hpstudy.evaluation`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import attrs
import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.evaluation._validate import as_index_array, check_seed

__all__ = ["Fold", "Folds", "fold_seed"]

# Spawn-key tag that keeps the objective's seeds apart from any other stream drawn from
# the same study seed (the splitters use the seed itself as scikit-learn's random_state).
_INIT_SEED_TAG = 0x1E17


def fold_seed(seed: int, cv_repeat: int, split: int, seed_repeat: int) -> int:
    """The initialisation seed of one task, derived from the folds' seed.

    A pure function of its arguments (``np.random.SeedSequence`` with the spawn key
    ``(tag, cv_repeat, split, seed_repeat)``), so the same study seed gives the same task
    seeds on every machine and in every trial.

    Parameters
    ----------
    seed : int
        The folds' seed (:attr:`Folds.seed`).
    cv_repeat, split, seed_repeat : int
        Which task (see :class:`Fold`).

    Returns
    -------
    int
        A seed in ``[0, 2**31)``, accepted by numpy, scikit-learn and TensorFlow alike.

    Examples
    --------
    >>> from hpstudy.evaluation import fold_seed
    >>> fold_seed(0, 0, 0, 0) == fold_seed(0, 0, 0, 0)
    True
    >>> fold_seed(0, 0, 0, 0) != fold_seed(0, 0, 0, 1)
    True
    """
    seed = check_seed(seed)
    key = (
        _INIT_SEED_TAG,
        check_int("cv_repeat", cv_repeat, 0),
        check_int("split", split, 0),
        check_int("seed_repeat", seed_repeat, 0),
    )
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, dtype=np.uint32)
    return int(state[0] >> 1)


def _read_only_indices(name: str, value: Any) -> np.ndarray:
    arr = as_index_array(name, value)
    arr.setflags(write=False)
    return arr


@attrs.frozen(kw_only=True, eq=False)
class Fold:
    """One evaluation task: which samples to train on, which to score on, which seed to use.

    Attributes
    ----------
    index : int
        The task number, unique within its :class:`Folds`, ``0 .. len(folds) - 1``.
        Tasks are numbered in ``(repeat, split)`` order: ``index == repeat * n_splits + split``.
        The study records it as ``FoldResult.fold``.
    split : int
        Which split of one cross-validation pass, ``0 .. n_splits - 1`` (0 for a holdout).
    repeat : int
        Which repetition, counting both kinds: ``repeat == cv_repeat * n_seeds + seed_repeat``.
        With ``split`` it names the task; the study records it as ``FoldResult.repeat``.
    cv_repeat : int
        Which pass of a repeated cross-validation (another shuffle of the samples), from 0.
    seed_repeat : int
        Which initialisation seed on the same data, from 0 (see :func:`with_seed_repeats`).
        Tasks that differ only in ``seed_repeat`` train and score on the same samples.
    seed : int
        The seed the objective should use for everything random in this task (weights,
        shuffling, dropout). The same for every trial of a study: comparisons are paired.
    train, val : numpy.ndarray of int64
        Sorted, read-only sample indices; disjoint.

    Notes
    -----
    Equality and hashing compare the index arrays by content.

    Examples
    --------
    >>> from hpstudy.evaluation import Fold
    >>> f = Fold(index=0, split=0, repeat=0, seed=7, train=[0, 2, 3], val=[1])
    >>> f.val, f.n_train
    (array([1]), 3)
    """

    index: int = attrs.field(converter=lambda v: check_int("index", v, 0))
    split: int = attrs.field(converter=lambda v: check_int("split", v, 0))
    repeat: int = attrs.field(converter=lambda v: check_int("repeat", v, 0))
    seed: int = attrs.field(converter=lambda v: check_seed(v))
    train: np.ndarray = attrs.field(converter=lambda v: _read_only_indices("train", v), repr=False)
    val: np.ndarray = attrs.field(converter=lambda v: _read_only_indices("val", v), repr=False)
    cv_repeat: int = attrs.field(default=0, converter=lambda v: check_int("cv_repeat", v, 0))
    seed_repeat: int = attrs.field(default=0, converter=lambda v: check_int("seed_repeat", v, 0))

    def __attrs_post_init__(self) -> None:
        common = np.intersect1d(self.train, self.val, assume_unique=True)
        if common.size:
            raise ConfigError(
                f"train, val: must not overlap (index {int(common[0])} is in both; "
                f"{common.size} shared)"
            )

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(self.train.size)

    @property
    def n_val(self) -> int:
        """Number of validation samples."""
        return int(self.val.size)

    @property
    def data_key(self) -> tuple[int, int]:
        """``(cv_repeat, split)``: tasks with the same key use the same samples."""
        return (self.cv_repeat, self.split)

    def _key(self) -> tuple:
        return (self.index, self.split, self.repeat, self.cv_repeat, self.seed_repeat, self.seed)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fold):
            return NotImplemented
        return (
            self._key() == other._key()
            and np.array_equal(self.train, other.train)
            and np.array_equal(self.val, other.val)
        )

    def __hash__(self) -> int:
        return hash((self._key(), self.train.tobytes(), self.val.tobytes()))

    def __repr__(self) -> str:
        return (
            f"Fold(index={self.index}, split={self.split}, repeat={self.repeat}, "
            f"cv_repeat={self.cv_repeat}, seed_repeat={self.seed_repeat}, seed={self.seed}, "
            f"n_train={self.n_train}, n_val={self.n_val})"
        )

    def to_record(self) -> dict[str, int]:
        """The fold's numbers as a JSON-able dict (without the index arrays)."""
        return {
            "index": self.index,
            "split": self.split,
            "repeat": self.repeat,
            "cv_repeat": self.cv_repeat,
            "seed_repeat": self.seed_repeat,
            "seed": self.seed,
            "n_train": self.n_train,
            "n_val": self.n_val,
        }


def _fold_tuple(value: Iterable[Fold]) -> tuple[Fold, ...]:
    folds = tuple(value)
    if not folds:
        raise ConfigError("folds: must hold at least one Fold (got none)")
    for pos, f in enumerate(folds):
        if not isinstance(f, Fold):
            raise ConfigError(f"folds[{pos}]: must be a Fold (got {type(f).__name__})")
        if f.index != pos:
            raise ConfigError(f"folds[{pos}].index: must equal its position {pos} (got {f.index})")
    return folds


def _details(value: Any) -> dict[str, Any]:
    return dict(value or {})


@attrs.frozen(kw_only=True)
class Folds(Sequence):
    """The evaluation tasks of a study: a read-only sequence of :class:`Fold`.

    Build it with :func:`holdout`, :func:`kfold`, :func:`stratified_kfold`,
    :func:`group_kfold` or :func:`from_splits`. Every trial of a study is evaluated on
    the same folds with the same seeds, so differences between trials are paired.

    Attributes
    ----------
    folds : tuple of Fold
        The tasks, in index order.
    kind : str
        ``"holdout"``, ``"kfold"``, ``"stratified_kfold"``, ``"group_kfold"``,
        ``"stratified_group_kfold"`` or ``"custom"``.
    seed : int
        The seed that fixed the split (scikit-learn's ``random_state``) and from which
        every fold's initialisation seed is derived (:func:`fold_seed`).
    n_samples : int
        Number of samples the indices refer to.
    n_splits : int
        Splits in one cross-validation pass (1 for a holdout).
    n_repeats : int
        Cross-validation passes, each with another shuffle.
    n_seeds : int
        Initialisation seeds per split (see :func:`with_seed_repeats`).
    details : dict
        Further JSON-able facts (splitter, shuffle, groups, validation size...).
    """

    folds: tuple[Fold, ...] = attrs.field(converter=_fold_tuple, repr=False)
    kind: str
    seed: int = attrs.field(converter=lambda v: check_seed(v))
    n_samples: int = attrs.field(converter=lambda v: check_int("n_samples", v, 1))
    n_splits: int = attrs.field(default=1, converter=lambda v: check_int("n_splits", v, 1))
    n_repeats: int = attrs.field(default=1, converter=lambda v: check_int("n_repeats", v, 1))
    n_seeds: int = attrs.field(default=1, converter=lambda v: check_int("n_seeds", v, 1))
    details: dict[str, Any] = attrs.field(factory=dict, converter=_details, hash=False)

    def __attrs_post_init__(self) -> None:
        expected = self.n_splits * self.n_repeats * self.n_seeds
        if len(self.folds) != expected:
            raise ConfigError(
                f"folds: must hold n_splits * n_repeats * n_seeds = {expected} folds "
                f"(got {len(self.folds)})"
            )
        for f in self.folds:
            if f.train[-1] >= self.n_samples or f.val[-1] >= self.n_samples:
                raise ConfigError(
                    f"folds[{f.index}]: indices must be < n_samples={self.n_samples}"
                )
            if f.repeat != f.cv_repeat * self.n_seeds + f.seed_repeat:
                raise ConfigError(
                    f"folds[{f.index}].repeat: must equal cv_repeat * n_seeds + seed_repeat"
                )
            if f.index != f.repeat * self.n_splits + f.split:
                raise ConfigError(
                    f"folds[{f.index}].index: must equal repeat * n_splits + split"
                )

    @overload
    def __getitem__(self, i: int) -> Fold: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Fold, ...]: ...
    def __getitem__(self, i):
        return self.folds[i]

    def __len__(self) -> int:
        return len(self.folds)

    def __iter__(self) -> Iterator[Fold]:
        return iter(self.folds)

    def __repr__(self) -> str:
        return (
            f"Folds(kind={self.kind!r}, n_tasks={len(self)}, n_splits={self.n_splits}, "
            f"n_repeats={self.n_repeats}, n_seeds={self.n_seeds}, seed={self.seed}, "
            f"n_samples={self.n_samples})"
        )

    def describe(self) -> dict[str, Any]:
        """What the study stores about its evaluation, as a JSON-able dict.

        Returns
        -------
        dict
            ``kind``, ``seed``, ``n_samples``, ``n_splits``, ``n_repeats``, ``n_seeds``,
            ``n_tasks``, ``repeat_encoding`` and the entries of :attr:`details`
            (for instance ``splitter``, ``shuffle``, ``stratified``, ``groups``, ``n_groups``).
        """
        out: dict[str, Any] = {
            "kind": self.kind,
            "seed": self.seed,
            "n_samples": self.n_samples,
            "n_splits": self.n_splits,
            "n_repeats": self.n_repeats,
            "n_seeds": self.n_seeds,
            "n_tasks": len(self),
            "repeat_encoding": "repeat = cv_repeat * n_seeds + seed_repeat; "
            "index = repeat * n_splits + split",
        }
        out.update(self.details)
        return out

    def records(self) -> list[dict[str, int]]:
        """One JSON-able dict per fold (:meth:`Fold.to_record`), to join with results on ``fold``."""
        return [f.to_record() for f in self.folds]

    def fingerprint(self) -> str:
        """A SHA-256 hex digest of every fold's numbers, seed and index arrays.

        It changes when anything that decides what a task computes changes (the data's
        size, the split, a seed), and is the same on every platform and Python version.
        The study stores it and refuses to resume on other folds.

        Returns
        -------
        str
            64 hexadecimal characters.
        """
        h = hashlib.sha256(b"hpstudy.Folds/1")
        h.update(np.asarray([self.n_samples, len(self.folds)], dtype="<i8").tobytes())
        for f in self.folds:
            head = [*f._key(), f.n_train, f.n_val]
            h.update(np.asarray(head, dtype="<i8").tobytes())
            h.update(f.train.astype("<i8").tobytes())
            h.update(f.val.astype("<i8").tobytes())
        return h.hexdigest()
