"""Perceptual hashes of images, to find near-duplicates across data splits.

A byte hash tells identical files apart from everything else; a slightly cropped or
re-encoded copy of a photo gets a new byte hash but keeps its perceptual hash, to
within a few bits. The jellyfish data set has such copies across its train, validation
and test folders; a validation score on copies of training images is not a validation.

The hash is the DCT-based pHash: the image is turned to grey (ITU-R BT.601 luma),
shrunk to 32 x 32 by area averaging, transformed by a 2-D DCT-II (:func:`scipy.fft.dctn`),
and the 8 x 8 lowest frequencies are compared with their median (over the 63 non-constant
coefficients): 64 bits, one per coefficient, row by row, the first the most significant.
Brightness and contrast changes leave it unchanged; blur, noise, re-encoding and small
crops flip a few bits; different images differ in about half of the 64.

This module takes images as numpy arrays and does not import an image library: load
files with Pillow (``np.asarray(PIL.Image.open(path))``) or any other reader.

Examples
--------
>>> import numpy as np
>>> from hpstudy.evaluation.near_duplicates import phash
>>> rng = np.random.default_rng(0)
>>> img = rng.random((64, 48))
>>> h = phash(img)
>>> 0 <= h < 2**64
True
>>> phash(img * 200 + 10) == h  # brightness and contrast do not matter
True
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError

__all__ = ["NearDuplicate", "find_near_duplicates", "hamming_distance", "phash", "phash_many"]

_THUMB = 32  # side of the grey thumbnail the DCT is taken of
_LOW = 8  # side of the block of low frequencies kept: 8 x 8 = 64 bits
_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as Pillow's convert("L")


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Weights (n_out, n_in) that average input cells over each output cell's extent."""
    edges_in = np.arange(n_in + 1) / n_in
    edges_out = np.arange(n_out + 1) / n_out
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    return np.clip(hi - lo, 0.0, None) * n_out


def resize_area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D array by area averaging (exact box filter; also enlarges).

    Parameters
    ----------
    image : numpy.ndarray of shape (h, w)
        A grey image.
    height, width : int
        The output's shape.

    Returns
    -------
    numpy.ndarray of float64, shape (height, width)
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ConfigError(f"image: must be 2-D for resize_area (got shape {img.shape})")
    height, width = check_int("height", height, 1), check_int("width", width, 1)
    rows = _area_matrix(img.shape[0], height)
    cols = _area_matrix(img.shape[1], width)
    return rows @ img @ cols.T


def _grey(image: Any) -> np.ndarray:
    img = np.asarray(image)
    if img.dtype.kind not in "uif" or img.dtype.kind == "b":
        raise ConfigError(f"image: must hold numbers (got dtype {img.dtype})")
    if img.ndim == 3 and img.shape[2] in (1, 3, 4):
        img = img[..., 0] if img.shape[2] == 1 else img[..., :3].astype(np.float64) @ _LUMA
    elif img.ndim != 2:
        raise ConfigError(
            f"image: must have shape (h, w) or (h, w, c) with c in 1, 3, 4 (got {img.shape})"
        )
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise ConfigError(f"image: must not be empty (got shape {img.shape})")
    img = img.astype(np.float64)
    if not np.isfinite(img).all():
        raise ConfigError("image: must hold finite values (found NaN or inf)")
    return img


def phash(image: Any) -> int:
    """The 64-bit perceptual hash (DCT pHash) of an image.

    Parameters
    ----------
    image : array-like of shape (h, w) or (h, w, c)
        Grey, RGB or RGBA (alpha ignored), any numeric dtype and scale.

    Returns
    -------
    int
        The hash, in ``[0, 2**64)``.

    Raises
    ------
    ConfigError
        If the image has another shape, is empty, or holds NaN or inf.
    """
    from scipy.fft import dctn

    thumb = resize_area(_grey(image), _THUMB, _THUMB)
    low = dctn(thumb, type=2, norm="ortho")[:_LOW, :_LOW].ravel()
    bits = low > np.median(low[1:])
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def phash_many(images: Sequence[Any]) -> np.ndarray:
    """:func:`phash` of each image, as a ``uint64`` array (for :func:`find_near_duplicates`).

    Parameters
    ----------
    images : sequence of array-like
        Images of any sizes.

    Returns
    -------
    numpy.ndarray of uint64
    """
    return np.array([phash(img) for img in images], dtype=np.uint64)


def _as_hashes(name: str, hashes: Any) -> np.ndarray:
    if isinstance(hashes, numbers.Integral):
        hashes = [hashes]
    if isinstance(hashes, np.ndarray) and hashes.dtype == np.uint64:
        arr = hashes
    else:
        if isinstance(hashes, (str, bytes)) or not isinstance(hashes, Iterable):
            raise ConfigError(f"{name}: must be a 1-D sequence of 64-bit hashes (got {hashes!r})")
        values = np.asarray(list(hashes), dtype=object)
        if values.ndim != 1:
            raise ConfigError(f"{name}: must be 1-D (got shape {values.shape})")
        for pos, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= int(v) < 2**64:
                raise ConfigError(f"{name}[{pos}]: must be an integer in [0, 2**64) (got {v!r})")
        arr = np.array([int(v) for v in values], dtype=np.uint64)
    if arr.ndim != 1:
        raise ConfigError(f"{name}: must be 1-D (got shape {arr.shape})")
    return arr


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x).astype(np.int64)
    as_bytes = x[..., None].view(np.uint8)
    return np.unpackbits(as_bytes, axis=-1).sum(axis=-1).astype(np.int64)


def hamming_distance(a: Any, b: Any) -> np.ndarray | int:
    """Number of differing bits between hashes (element-wise for arrays).

    Parameters
    ----------
    a, b : int or array-like of int
        64-bit hashes.

    Returns
    -------
    int or numpy.ndarray of int
        From 0 (same hash) to 64.

    Examples
    --------
    >>> from hpstudy.evaluation.near_duplicates import hamming_distance
    >>> hamming_distance(0b1011, 0b0001)
    2
    """
    scalar = isinstance(a, numbers.Integral) and isinstance(b, numbers.Integral)
    xa, xb = _as_hashes("a", a), _as_hashes("b", b)
    if not scalar and xa.shape != xb.shape:
        raise ConfigError(f"a, b: must have the same length ({xa.size} and {xb.size})")
    d = _popcount(np.bitwise_xor(xa, xb))
    return int(d[0]) if scalar else d


@attrs.frozen(kw_only=True)
class NearDuplicate:
    """A pair of images whose hashes are within the distance asked for.

    Attributes
    ----------
    i : int
        Position in ``hashes_a``.
    j : int
        Position in ``hashes_b`` (or in ``hashes_a`` when comparing a set with itself).
    distance : int
        Hamming distance between the two hashes.
    """

    i: int
    j: int
    distance: int


def find_near_duplicates(
    hashes_a: Any,
    hashes_b: Any = None,
    *,
    max_distance: int = 8,
    chunk: int = 2048,
) -> tuple[NearDuplicate, ...]:
    """Pairs of images whose perceptual hashes differ in at most ``max_distance`` bits.

    Parameters
    ----------
    hashes_a : sequence of int or numpy.ndarray of uint64
        Hashes of the first set (e.g. the validation images).
    hashes_b : sequence of int or numpy.ndarray of uint64, optional
        Hashes of the second set (e.g. the training images). When omitted, pairs
        within ``hashes_a`` are found (``i < j``).
    max_distance : int, default 8
        Largest Hamming distance reported, 0 to 64. Unrelated photos differ in about 32
        bits; light crops, blur and re-encoding in well under 10.
    chunk : int, default 2048
        Rows compared at once (bounds memory to ``chunk * len(hashes_b)`` words).

    Returns
    -------
    tuple of NearDuplicate
        Sorted by distance, then ``i``, then ``j``.

    Raises
    ------
    ConfigError
        If a hash is not an integer in ``[0, 2**64)`` or ``max_distance`` is out of range.

    Examples
    --------
    >>> from hpstudy.evaluation.near_duplicates import find_near_duplicates
    >>> find_near_duplicates([0b1111, 2**63], [0, 0b0111], max_distance=1)
    (NearDuplicate(i=0, j=1, distance=1), NearDuplicate(i=1, j=0, distance=1))
    """
    max_distance = check_int("max_distance", max_distance, 0, 64)
    chunk = check_int("chunk", chunk, 1)
    a = _as_hashes("hashes_a", hashes_a)
    same = hashes_b is None
    b = a if same else _as_hashes("hashes_b", hashes_b)
    found: list[tuple[int, int, int]] = []
    for start in range(0, a.size, int(chunk)):
        d = _popcount(np.bitwise_xor(a[start : start + chunk, None], b[None, :]))
        ii, jj = np.nonzero(d <= max_distance)
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            if not same or start + i < j:
                found.append((int(d[i, j]), start + i, j))
    found.sort()
    return tuple(NearDuplicate(i=i, j=j, distance=dist) for dist, i, j in found)
