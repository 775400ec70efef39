"""Leakage audit of the jellyfish images: augmented copies and near-duplicates.

The audit itself is a library feature, :func:`hpstudy.evaluation.audit_image_folder`
(also the command ``hpstudy audit DATA_DIR``): provenance groups from
``aug-<k>-<source>.jpg`` names, near-duplicates by perceptual hash (pHash distance
<= 8 of 64 bits by default; the module :mod:`hpstudy.evaluation.images` says where
that threshold comes from), merged into one group per photo across splits. This
module applies it to the example's listing (:func:`examples.jellyfish.data.scan`, which
is stricter: every split must hold every class), so that the positions of the audit
are those of the objective.
"""

from __future__ import annotations

import os
from typing import Any

from examples.jellyfish.data import ImageSet, scan
from hpstudy.evaluation import ImageFolderAudit, audit_image_folder

__all__ = ["DataAudit", "audit_data"]

DEFAULT_MAX_DISTANCE = 8
#: What :func:`audit_data` returns (:class:`hpstudy.evaluation.ImageFolderAudit`).
DataAudit = ImageFolderAudit


def audit_data(data: ImageSet | str | os.PathLike | None = None, *,
               max_distance: int = DEFAULT_MAX_DISTANCE, hash_size: int = 64) -> DataAudit:
    """Audit a data set for augmented copies and near-duplicates, within and across splits.

    Parameters
    ----------
    data : ImageSet or path, optional
        The scanned set, or its folder (None: the embedded copy).
    max_distance : int, default 8
        Largest pHash Hamming distance (of 64 bits) counted as the same photo.
    hash_size : int, default 64
        Images are read at this size before hashing (pHash shrinks to 32 px anyway).

    Returns
    -------
    DataAudit
    """
    images = data if isinstance(data, ImageSet) else scan(data)
    return audit_image_folder(images, max_distance=max_distance, hash_size=hash_size)


def audit_command(data_dir: Any, max_distance: int = DEFAULT_MAX_DISTANCE) -> str:
    """The text of ``python -m examples.jellyfish audit``."""
    return audit_data(data_dir, max_distance=max_distance).table()
