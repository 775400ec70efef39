"""Leakage audit of an image-folder data set: provenance groups and near-duplicates.

Two sources of "the same photo twice":

* **provenance** -- ``aug-<k>-<source>.jpg`` is an augmented copy of ``<source>.jpg`` in
  the same class folder (:func:`hpstudy.evaluation.groups_from_filenames`);
* **perceptual hashing** -- two files whose 64-bit pHashes
  (:mod:`hpstudy.evaluation.near_duplicates`) differ in at most ``max_distance`` bits
  are the same photo re-encoded, resized or slightly cropped. The default, 8 bits,
  comes from the jellyfish data: the three valid and three test images that copy a
  Train image are at distance 0, while every other valid/test image is 10 or more
  bits from its nearest Train image (typically 14 to 20).

The audit merges both into one group per photo (union-find over the files of all
splits): the groups a grouped k-fold must keep whole, and the list of valid/test images
that duplicate a training image, which an honest score leaves out.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
import numpy as np

from examples.jellyfish.data import ImageSet, read_image, scan
from hpstudy.evaluation import audit_groups, stratified_kfold
from hpstudy.evaluation.near_duplicates import find_near_duplicates, phash_many

__all__ = ["DataAudit", "audit_data"]

DEFAULT_MAX_DISTANCE = 8


def _merge(keys: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """Union-find: files sharing a key or joined by a pair end in one group."""
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, key in enumerate(keys.tolist()):
        if key in first:
            parent[root(i)] = root(first[key])
        else:
            first[key] = i
    for i, j in pairs:
        parent[root(i)] = root(j)
    roots = [root(i) for i in range(len(keys))]
    return np.array([keys[r] for r in roots])


@attrs.frozen(kw_only=True)
class DataAudit:
    """What :func:`audit_data` found.

    Attributes
    ----------
    images : ImageSet
        The files audited.
    provenance : numpy.ndarray of str
        Each file's provenance group (``"<split>:<class>/<source stem>"``).
    groups : numpy.ndarray of str
        Each file's merged group: provenance plus near-duplicates, across splits.
    pairs : tuple of (int, int, int)
        ``(i, j, distance)``: near-duplicate files of different provenance groups
        (positions in ``images``, ``i < j``).
    max_distance : int
        The Hamming threshold used.
    """

    images: ImageSet
    provenance: np.ndarray = attrs.field(eq=False)
    groups: np.ndarray = attrs.field(eq=False)
    pairs: tuple[tuple[int, int, int], ...]
    max_distance: int

    def duplicated(self, split: str, of: str = "train") -> np.ndarray:
        """Positions of the files of ``split`` with a near-duplicate in split ``of``."""
        splits = self.images.splits
        hit = set()
        for i, j, _ in self.pairs:
            for a, b in ((i, j), (j, i)):
                if splits[a] == split and splits[b] == of:
                    hit.add(a)
        return np.array(sorted(hit), dtype=int)

    def clean(self, split: str, of: str = "train") -> np.ndarray:
        """Positions of the files of ``split`` without a near-duplicate in ``of``."""
        idx = self.images.indices(split)
        return np.setdiff1d(idx, self.duplicated(split, of))

    def naive_kfold_leak(self, split: str = "train", n_splits: int = 5, seed: int = 0) -> float:
        """Mean share of validation files with a group-mate in training, ungrouped k-fold."""
        idx = self.images.indices(split)
        folds = stratified_kfold(self.images.labels[idx], n_splits=n_splits, seed=seed)
        return float(np.mean(audit_groups(folds, self.groups[idx]).val_leak_fraction))

    def table(self) -> str:
        """The audit as a text table, one row per split, and the cross-split duplicates."""
        im = self.images
        rows = [f"{'split':<6} {'files':>6} {'photos':>7} {'aug copies':>11} "
                f"{'dup pairs':>10} {'dup of Train':>13}"]
        for split in im.split_names:
            idx = im.indices(split)
            n_prov = len(np.unique(self.provenance[idx]))
            n_aug = len(idx) - n_prov
            inside = sum(1 for i, j, _ in self.pairs if im.splits[i] == im.splits[j] == split)
            dup = "-" if split == "train" else str(len(self.duplicated(split)))
            photos = len(np.unique(self.groups[idx]))
            rows.append(f"{split:<6} {len(idx):>6} {photos:>7} {n_aug:>11} {inside:>10} {dup:>13}")
        lines = [f"Leakage audit of {im.root} ({len(im)} images, {len(im.class_names)} classes; "
                 f"near-duplicate: pHash distance <= {self.max_distance} of 64 bits)", *rows,
                 "photos: distinct photos after merging augmented copies and near-duplicates; "
                 "aug copies: files named aug-<k>-<source>; dup pairs: near-duplicate pairs "
                 "not explained by names."]
        k = min(5, int(np.bincount(im.labels[im.indices(im.split_names[0])]).min()))
        if k >= 2:
            leak = self.naive_kfold_leak(im.split_names[0], n_splits=k)
            lines.append(f"An ungrouped stratified {k}-fold on {im.split_names[0]} puts "
                         f"{leak:.1%} of each validation fold next to a copy of the same "
                         f"photo in training.")
        for split in ("valid", "test"):
            if split in im.split_names:
                for a in self.duplicated(split).tolist():
                    mates = [(j if i == a else i, d) for i, j, d in self.pairs if a in (i, j)
                             and im.splits[j if i == a else i] == "train"]
                    names = ", ".join(f"{os.path.relpath(im.paths[m], im.root)} (d={d})"
                                      for m, d in mates[:3])
                    lines.append(f"  {os.path.relpath(im.paths[a], im.root)} duplicates {names}")
        return "\n".join(lines)


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
    provenance = images.groups()
    hashes = phash_many([read_image(p, hash_size) for p in images.paths])
    found = find_near_duplicates(hashes, max_distance=max_distance)
    pairs = tuple((d.i, d.j, d.distance) for d in found if provenance[d.i] != provenance[d.j])
    groups = _merge(provenance, [(i, j) for i, j, _ in pairs])
    return DataAudit(images=images, provenance=provenance, groups=groups, pairs=pairs,
                     max_distance=max_distance)


def audit_command(data_dir: Any, max_distance: int = DEFAULT_MAX_DISTANCE) -> str:
    """The text of ``python -m examples.jellyfish audit``."""
    return audit_data(data_dir, max_distance=max_distance).table()
