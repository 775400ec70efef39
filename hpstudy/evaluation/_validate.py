"""Input checks shared by the evaluators (private; see :mod:`hpstudy.evaluation`).

Every check raises :class:`hpstudy.errors.ConfigError` whose message names the
argument and the rule, e.g. ``n_splits: must be >= 2 (got 1)``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError

MAX_SEED = 2**32 - 1  # scikit-learn's random_state and np.random.RandomState accept 0..2**32-1


def check_seed(seed: Any, name: str = "seed") -> int:
    """A seed usable by both numpy's SeedSequence and scikit-learn's random_state."""
    seed = check_int(name, seed, 0)
    if seed > MAX_SEED:
        raise ConfigError(f"{name}: must be <= 2**32 - 1 (got {seed})")
    return seed


def check_n_seeds(n_seeds: Any) -> int:
    """Initialisation seeds per split, >= 1."""
    return check_int("n_seeds", n_seeds, 1)


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool, refusing anything else (``shuffle="no"`` is a mistake)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name}: must be True or False (got {value!r})")
    return bool(value)


def as_1d(name: str, values: Any, *, min_len: int = 1) -> np.ndarray:
    """``values`` as a 1-D numpy array of at least ``min_len`` entries."""
    if values is None:
        raise ConfigError(f"{name}: must be a 1-D array (got None)")
    if isinstance(values, (str, bytes)):
        raise ConfigError(f"{name}: must be a 1-D array, not a single string (got {values!r})")
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ConfigError(f"{name}: must be 1-D (got shape {arr.shape})")
    if arr.shape[0] < min_len:
        raise ConfigError(f"{name}: must have at least {min_len} entries (got {arr.shape[0]})")
    return arr


def as_labels(name: str, values: Any) -> np.ndarray:
    """Class or group labels: 1-D, non-empty, without NaN or None."""
    arr = as_1d(name, values)
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        pos = int(np.flatnonzero(np.isnan(arr))[0])
        raise ConfigError(f"{name}: must not contain NaN (found at position {pos})")
    if arr.dtype.kind == "O":
        for pos, v in enumerate(arr):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                raise ConfigError(f"{name}: must not contain None or NaN (found at position {pos})")
        try:
            np.unique(arr)
        except TypeError as exc:
            raise ConfigError(
                f"{name}: labels must be mutually comparable, e.g. all str or all int ({exc})"
            ) from exc
    return arr


def as_index_array(name: str, values: Any, n_samples: int | None = None) -> np.ndarray:
    """Sample indices: 1-D integers, non-empty, no repeats, in ``[0, n_samples)``; sorted copy."""
    arr = as_1d(name, values)
    if arr.dtype.kind == "b":
        raise ConfigError(
            f"{name}: must be integer indices, not a boolean mask (use np.flatnonzero(mask))"
        )
    if arr.dtype.kind not in "iu":
        raise ConfigError(f"{name}: must be integer indices (got dtype {arr.dtype})")
    arr = np.sort(arr.astype(np.int64))
    if arr[0] < 0:
        raise ConfigError(f"{name}: indices must be >= 0 (got {int(arr[0])})")
    if n_samples is not None and arr[-1] >= n_samples:
        raise ConfigError(
            f"{name}: indices must be < n_samples={n_samples} (got {int(arr[-1])})"
        )
    dup = np.flatnonzero(np.diff(arr) == 0)
    if dup.size:
        raise ConfigError(f"{name}: index {int(arr[dup[0]])} appears more than once")
    return arr


def check_same_length(**arrays: np.ndarray | None) -> int:
    """The common length of the given arrays (None ones skipped); ConfigError if they differ."""
    given = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(given.values())) > 1:
        detail = ", ".join(f"{k} has {n}" for k, n in given.items())
        raise ConfigError(f"{', '.join(given)}: must have the same length ({detail})")
    return next(iter(given.values()))


def check_n_splits(n_splits: Any, n_samples: int) -> int:
    """``n_splits`` between 2 and the number of samples."""
    n_splits = check_int("n_splits", n_splits, 2)
    if n_splits > n_samples:
        raise ConfigError(
            f"n_splits: must be <= the number of samples {n_samples} (got {n_splits})"
        )
    return n_splits


def check_class_labels(y: np.ndarray, n_splits: int | None) -> np.ndarray:
    """Class labels fit for stratification: discrete, and every class has >= n_splits members."""
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise ConfigError(
            f"y: must be class labels to stratify on (got {kind!r} values); "
            "for a continuous target use kfold"
        )
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) < 2:
        raise ConfigError(f"y: must hold at least 2 classes to stratify (got {len(labels)})")
    if n_splits is not None and counts.min() < n_splits:
        small = labels[int(np.argmin(counts))].item()
        raise ConfigError(
            f"n_splits: must be <= the number of members of the smallest class "
            f"({small!r} has {int(counts.min())}) (got {n_splits})"
        )
    return y


def check_n_groups(groups: np.ndarray, n_splits: int) -> int:
    """The number of distinct groups, which must be at least ``n_splits``."""
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise ConfigError(
            f"groups: must have at least n_splits={n_splits} distinct groups (got {n_groups})"
        )
    return n_groups


def check_val_size(val_size: Any, n_units: int, unit: str) -> float | int:
    """A validation size as scikit-learn takes it: a fraction in (0, 1) or a count."""
    if isinstance(val_size, bool) or not isinstance(val_size, numbers.Real):
        raise ConfigError(f"val_size: must be a fraction in (0, 1) or a count (got {val_size!r})")
    if isinstance(val_size, numbers.Integral):
        val_size = int(val_size)
        if not 1 <= val_size <= n_units - 1:
            raise ConfigError(
                f"val_size: a count must be between 1 and {n_units - 1} {unit} (got {val_size})"
            )
        return val_size
    val_size = float(val_size)
    if not 0.0 < val_size < 1.0:
        raise ConfigError(f"val_size: a fraction must be in (0, 1) (got {val_size})")
    n_val = int(np.ceil(val_size * n_units))
    if n_val < 1 or n_units - n_val < 1:
        raise ConfigError(
            f"val_size: {val_size} of {n_units} {unit} leaves an empty train or validation set"
        )
    return val_size
