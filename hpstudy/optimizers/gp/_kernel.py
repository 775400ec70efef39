"""Matérn 5/2 ARD kernel on mixed encoded inputs, with analytic gradients.

Inputs are rows of an encoded matrix (see :mod:`hpstudy.optimizers.gp._encoding`):
numeric columns hold unit-cube coordinates, categorical columns hold the
integer code of the category. The per-dimension squared distance is
``(x_j - x'_j) ** 2`` for a numeric column and ``1[x_j != x'_j]`` for a
categorical one, and the kernel is

    k(x, x') = s2 * m(r),   r ** 2 = sum_j d_j(x, x') / l_j ** 2,
    m(r) = (1 + sqrt(5) r + 5 r ** 2 / 3) exp(-sqrt(5) r).

The categorical term equals the squared Euclidean distance between one-hot
vectors scaled by ``1 / sqrt(2)``, so the kernel is a Matérn kernel on a
Euclidean embedding and therefore positive definite; each categorical
dimension has one lengthscale shared by all its categories.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "cross_sqdist",
    "matern52",
    "matern52_cross",
    "matern52_grad_x",
    "matern52_grads",
    "matern52_parts",
    "scaled_r2",
]

_SQRT5 = np.sqrt(5.0)


def cross_sqdist(X1: np.ndarray, X2: np.ndarray, is_cat: np.ndarray) -> np.ndarray:
    """Per-dimension squared distances, shape ``(d, n1, n2)``."""
    diff = X1.T[:, :, None] - X2.T[:, None, :]
    D = diff * diff
    if is_cat.any():
        D[is_cat] = (diff[is_cat] != 0.0).astype(float)
    return D


def _r2(D: np.ndarray, lengthscales: np.ndarray) -> np.ndarray:
    return np.tensordot(1.0 / lengthscales**2, D, axes=1)


def matern52(D: np.ndarray, lengthscales: np.ndarray, s2: float) -> np.ndarray:
    """Kernel matrix from per-dimension squared distances ``D`` (d, n1, n2)."""
    r = np.sqrt(np.maximum(_r2(D, lengthscales), 0.0))
    sr = _SQRT5 * r
    return s2 * (1.0 + sr + sr * sr / 3.0) * np.exp(-sr)


def matern52_grads(
    D: np.ndarray, lengthscales: np.ndarray, s2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel matrix and its derivatives with respect to ``log(lengthscales)``.

    Returns ``K`` (n1, n2) and ``dK`` (d, n1, n2), where
    ``dK[j] = dK / dlog(l_j) = s2 * 5/3 (1 + sqrt(5) r) exp(-sqrt(5) r) D_j / l_j ** 2``.
    The derivative with respect to ``log(s2)`` is ``K`` itself.
    """
    scaled = D / (lengthscales**2)[:, None, None]
    r = np.sqrt(np.maximum(scaled.sum(axis=0), 0.0))
    sr = _SQRT5 * r
    e = np.exp(-sr)
    K = s2 * (1.0 + sr + sr * sr / 3.0) * e
    common = s2 * (5.0 / 3.0) * (1.0 + sr) * e
    return K, common[None, :, :] * scaled


def scaled_r2(
    X1: np.ndarray, X2: np.ndarray, lengthscales: np.ndarray, is_cat: np.ndarray
) -> np.ndarray:
    """``r ** 2`` between rows of ``X1`` and ``X2`` by matrix products (fast for many rows).

    Numeric columns: ``|a|^2 + |b|^2 - 2 a.b`` on inputs divided by the lengthscales.
    Categorical columns: ``sum_j w_j - sum_j w_j [a_j == b_j]`` with ``w_j = l_j ** -2``,
    the equalities counted by a product of one-hot codes.
    """
    num = ~is_cat
    A, B = X1[:, num] / lengthscales[num], X2[:, num] / lengthscales[num]
    r2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T)
    for j in np.flatnonzero(is_cat):
        w = 1.0 / lengthscales[j] ** 2
        a, b = X1[:, j].astype(int), X2[:, j].astype(int)
        k = int(max(a.max(initial=0), b.max(initial=0))) + 1
        r2 += w * (1.0 - (np.eye(k)[a] @ np.eye(k)[b].T))
    return np.maximum(r2, 0.0)


def matern52_cross(
    X1: np.ndarray, X2: np.ndarray, lengthscales: np.ndarray, s2: float, is_cat: np.ndarray
) -> np.ndarray:
    """Kernel between rows of ``X1`` and ``X2``, through :func:`scaled_r2`."""
    sr = _SQRT5 * np.sqrt(scaled_r2(X1, X2, lengthscales, is_cat))
    return s2 * (1.0 + sr + sr * sr / 3.0) * np.exp(-sr)


def matern52_parts(
    D: np.ndarray, lengthscales: np.ndarray, s2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel matrix ``K`` and ``C = s2 * 5/3 (1 + sqrt(5) r) exp(-sqrt(5) r)``.

    ``dK / dlog(l_j) = C * D_j / l_j ** 2``, so gradients can be contracted
    without materialising the ``(d, n, n)`` derivative array.
    """
    r = np.sqrt(np.maximum(_r2(D, lengthscales), 0.0))
    sr = _SQRT5 * r
    e = np.exp(-sr)
    return s2 * (1.0 + sr + sr * sr / 3.0) * e, s2 * (5.0 / 3.0) * (1.0 + sr) * e


def matern52_grad_x(
    x: np.ndarray, X: np.ndarray, lengthscales: np.ndarray, s2: float, is_cat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel between query rows ``x`` (m, d) and data ``X`` (n, d), and its gradient in ``x``.

    Returns ``k`` (m, n) and ``dk`` (m, n, d) with ``dk[a, i, j] = dk(x_a, X_i) / dx_aj``;
    the gradient is zero along categorical columns (they are held fixed by the optimiser).
    """
    diff = x[:, None, :] - X[None, :, :]
    sq = diff * diff
    if is_cat.any():
        sq[:, :, is_cat] = (diff[:, :, is_cat] != 0.0).astype(float)
        diff = diff.copy()
        diff[:, :, is_cat] = 0.0
    inv_l2 = 1.0 / lengthscales**2
    r = np.sqrt(np.maximum(sq @ inv_l2, 0.0))
    sr = _SQRT5 * r
    e = np.exp(-sr)
    k = s2 * (1.0 + sr + sr * sr / 3.0) * e
    # dm/dr * dr/dx_j = -(5/3)(1 + sqrt5 r) exp(-sqrt5 r) (x_j - X_j) / l_j^2
    common = -s2 * (5.0 / 3.0) * (1.0 + sr) * e
    dk = common[:, :, None] * diff * inv_l2
    return k, dk
