"""Leakage audit of an image-folder data set: augmented copies and near-duplicates.

An image-folder data set is read in either of two layouts:

* split folders, ``[Train_Test_Valid/]{train,valid,test}/<class>/`` (the names matched
  without regard to case; ``validation`` and ``val`` read as ``valid``), as Kaggle
  archives unpack;
* a flat ``<class>/`` folder, read as one split named ``"all"``.

Two sources of "the same photo twice" are merged into one group per photo:

* **provenance** -- ``aug-<k>-<source>.jpg`` is an augmented copy of ``<source>.jpg`` in
  the same class folder (:func:`hpstudy.evaluation.groups_from_filenames`); the split is
  part of the key, since one name in two splits is no evidence of one photo;
* **perceptual hashing** -- two files whose 64-bit pHashes
  (:mod:`hpstudy.evaluation.near_duplicates`) differ in at most ``max_distance`` bits
  are the same photo re-encoded, resized or slightly cropped, in any splits.

The default threshold, 8 of 64 bits, comes from the jellyfish data set: the three
valid and three test images that copy a Train image are at distance 0, every other
valid/test image is 10 or more bits from its nearest Train image (typically 14 to 20),
and unrelated photos differ in about 32.

The groups are what a grouped k-fold (:func:`hpstudy.evaluation.group_kfold`) must keep
whole; :meth:`ImageFolderAudit.duplicated` lists the validation or test files that
copy a training file, which an honest score leaves out. Reading images needs Pillow
(``pip install pillow``), imported only when :func:`audit_image_folder` runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.evaluation._groups import audit_groups, groups_from_filenames
from hpstudy.evaluation._split import stratified_kfold
from hpstudy.evaluation.near_duplicates import find_near_duplicates, phash_many

__all__ = ["IMAGE_EXTENSIONS", "ImageFolder", "ImageFolderAudit", "audit_image_folder",
           "scan_image_folder"]

#: Extensions read as images (compared in lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
_SPLITS = {"train": "train", "valid": "valid", "validation": "valid", "val": "valid",
           "test": "test"}
_ORDER = ("train", "valid", "test", "all")


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("reading images needs Pillow: pip install pillow "
                          "(or pip install 'hpstudy[example]')") from exc
    return Image


@attrs.frozen(kw_only=True)
class ImageFolder:
    """The files of an image-folder data set, in a fixed order.

    Attributes
    ----------
    root : pathlib.Path
        The folder holding the splits (or the class folders).
    paths : tuple of str
        Every image file, absolute, sorted by split (train, valid, test), class, name.
    labels : numpy.ndarray of int
        Class index of each file (into ``class_names``).
    splits : numpy.ndarray of str
        Split of each file: ``"train"``, ``"valid"``, ``"test"`` or ``"all"``.
    class_names : tuple of str
        The class folders of all splits, sorted.
    """

    root: Path
    paths: tuple[str, ...]
    labels: np.ndarray = attrs.field(eq=False)
    splits: np.ndarray = attrs.field(eq=False)
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def split_names(self) -> tuple[str, ...]:
        """The splits present, in the order of the files."""
        return tuple(dict.fromkeys(self.splits.tolist()))

    def indices(self, *splits: str) -> np.ndarray:
        """Positions of the files of the given splits (all files when none are given)."""
        if not splits:
            return np.arange(len(self.paths))
        unknown = [s for s in splits if s not in self.split_names]
        if unknown:
            raise ConfigError(f"split: {unknown[0]!r} is not in this data set "
                              f"(it has {list(self.split_names)})")
        return np.flatnonzero(np.isin(self.splits, list(splits)))

    def relative(self, index: Any = None) -> list[str]:
        """File names relative to ``root`` (``Train/Moon_jellyfish/01.jpg``)."""
        idx = self.indices() if index is None else np.asarray(index)
        return [os.path.relpath(self.paths[i], self.root) for i in idx.tolist()]

    def groups(self, index: Any = None) -> np.ndarray:
        """Provenance groups: ``aug-<k>-<src>.jpg`` with ``<src>.jpg`` of its class folder.

        The key is ``"<split>:<class>/<source stem>"`` (case-folded).
        """
        idx = self.indices() if index is None else np.asarray(index)
        keys = groups_from_filenames([self.paths[i] for i in idx.tolist()])
        return np.array([f"{s}:{k}" for s, k in zip(self.splits[idx], keys, strict=True)])


def _class_folders(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.iterdir())
            if p.is_dir() and not p.name.startswith(".")}


def _find_splits(root: Path) -> dict[str, Path] | None:
    inner = root / "Train_Test_Valid"
    base = inner if inner.is_dir() else root
    found: dict[str, Path] = {}
    for p in sorted(base.iterdir()):
        name = _SPLITS.get(p.name.lower())
        if p.is_dir() and name is not None:
            if name in found:
                raise ConfigError(f"data_dir: two folders for split {name!r}: "
                                  f"{found[name].name} and {p.name}")
            found[name] = p
    return found or None


def _check_readable(path: Path) -> None:
    image = _pillow()
    try:
        with image.open(path) as img:
            img.verify()
    except (OSError, SyntaxError) as exc:  # UnidentifiedImageError is an OSError
        raise ConfigError(f"data_dir: {path} is not a readable image ({exc})") from None


def scan_image_folder(path: str | os.PathLike, *, extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
                      strict: bool = False, check: bool = False) -> ImageFolder:
    """List the images of a data set in split folders or a flat ``<class>/`` folder.

    Parameters
    ----------
    path : path
        The data set's folder.
    extensions : tuple of str, default IMAGE_EXTENSIONS
        File extensions read as images, in lower case with the dot.
    strict : bool, default False
        Refuse a split that lacks a class of another split, or a class folder without
        images (a classifier trained on 6 classes and scored on 5 is another
        experiment). When False such folders are simply absent from the listing.
    check : bool, default False
        Open each file's header with Pillow, so that a broken file is reported now, by
        name (needs Pillow).

    Returns
    -------
    ImageFolder

    Raises
    ------
    ConfigError
        When the folder is missing or holds no class folder with an image, a split
        folder appears twice, or (``strict``) a split lacks a class or a class folder is
        empty, or (``check``) an image is unreadable.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ConfigError(f"data_dir: {str(root)!r} is not a folder")
    split_dirs = _find_splits(root) or {"all": root}
    per_split = {name: _class_folders(folder) for name, folder in split_dirs.items()}
    classes = sorted(set().union(*per_split.values()))
    paths: list[str] = []
    labels: list[int] = []
    splits: list[str] = []
    order = [s for s in _ORDER if s in per_split]
    for split in order:
        folders = per_split[split]
        for label, name in enumerate(classes):
            if name not in folders:
                if strict:
                    raise ConfigError(f"data_dir: split {split!r} ({split_dirs[split]}) has "
                                      f"no folder for class {name!r}; every split needs all "
                                      f"of {classes}")
                continue
            files = sorted(p for p in folders[name].iterdir()
                           if p.is_file() and p.suffix.lower() in extensions)
            if not files and strict:
                raise ConfigError(f"data_dir: {folders[name]} holds no image "
                                  f"({', '.join(extensions)})")
            for file in files:
                if check:
                    _check_readable(file)
                paths.append(str(file.resolve()))
                labels.append(label)
                splits.append(split)
    if not paths:
        raise ConfigError(f"data_dir: no class folders with images in {str(root)!r} (expected "
                          "[Train_Test_Valid/]{train,valid,test}/<class>/ or <class>/)")
    base = split_dirs[order[0]].parent if order[0] != "all" else root
    return ImageFolder(root=base.resolve(), paths=tuple(paths), labels=np.asarray(labels),
                       splits=np.asarray(splits), class_names=tuple(classes))


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
    return np.array([keys[root(i)] for i in range(len(keys))])


@attrs.frozen(kw_only=True)
class ImageFolderAudit:
    """What :func:`audit_image_folder` found.

    Attributes
    ----------
    images : ImageFolder
        The files audited.
    provenance : numpy.ndarray of str
        Each file's provenance group (``"<split>:<class>/<source stem>"``).
    groups : numpy.ndarray of str
        Each file's merged group: provenance plus near-duplicates, across splits. Hand
        ``groups[idx]`` to :func:`~hpstudy.evaluation.group_kfold` for folds of ``idx``.
    pairs : tuple of (int, int, int)
        ``(i, j, distance)``: near-duplicate files of different provenance groups
        (positions in ``images``, ``i < j``).
    max_distance : int
        The Hamming threshold used (bits of 64).
    """

    images: ImageFolder
    provenance: np.ndarray = attrs.field(eq=False)
    groups: np.ndarray = attrs.field(eq=False)
    pairs: tuple[tuple[int, int, int], ...]
    max_distance: int

    @property
    def reference(self) -> str:
        """The split others are compared with: ``"train"``, else the first split."""
        names = self.images.split_names
        return "train" if "train" in names else names[0]

    def duplicated(self, split: str, of: str | None = None) -> np.ndarray:
        """Positions of the files of ``split`` with a near-duplicate in split ``of``.

        ``of`` defaults to :attr:`reference` (the training split).
        """
        of = self.reference if of is None else of
        splits = self.images.splits
        hit = set()
        for i, j, _ in self.pairs:
            for a, b in ((i, j), (j, i)):
                if splits[a] == split and splits[b] == of:
                    hit.add(a)
        return np.array(sorted(hit), dtype=int)

    def clean(self, split: str, of: str | None = None) -> np.ndarray:
        """Positions of the files of ``split`` without a near-duplicate in ``of``."""
        return np.setdiff1d(self.images.indices(split), self.duplicated(split, of))

    def naive_kfold_leak(self, split: str | None = None, n_splits: int = 5,
                         seed: int = 0) -> float:
        """Mean share of validation files with a group-mate in training, ungrouped k-fold.

        The stratified k-fold of ``split`` (default :attr:`reference`) that ignores the
        groups; 0 when no photo is in the split twice.
        """
        idx = self.images.indices(self.reference if split is None else split)
        folds = stratified_kfold(self.images.labels[idx], n_splits=n_splits, seed=seed)
        return float(np.mean(audit_groups(folds, self.groups[idx]).val_leak_fraction))

    def _naive_k(self) -> int:
        counts = np.bincount(self.images.labels[self.images.indices(self.reference)])
        return min(5, int(counts[counts > 0].min()))

    def _mates(self, a: int) -> list[tuple[int, int]]:
        splits = self.images.splits
        out = [(j if i == a else i, d) for i, j, d in self.pairs if a in (i, j)]
        return [(m, d) for m, d in out if splits[m] == self.reference]

    def to_dict(self) -> dict[str, Any]:
        """The audit as plain data (what ``hpstudy audit --format json`` prints)."""
        im, ref = self.images, self.reference
        rows = []
        for split in im.split_names:
            idx = im.indices(split)
            inside = sum(1 for i, j, _ in self.pairs if im.splits[i] == im.splits[j] == split)
            rows.append({"split": split, "files": len(idx),
                         "photos": len(np.unique(self.groups[idx])),
                         "aug_copies": len(idx) - len(np.unique(self.provenance[idx])),
                         "dup_pairs": inside,
                         "dup_of_reference": None if split == ref
                         else len(self.duplicated(split))})
        k = self._naive_k()
        copies = [{"file": im.relative([a])[0],
                   "duplicates": [{"file": im.relative([m])[0], "distance": d}
                                  for m, d in self._mates(a)]}
                  for split in im.split_names if split != ref
                  for a in self.duplicated(split).tolist()]
        return {"root": str(im.root), "images": len(im), "classes": list(im.class_names),
                "max_distance": self.max_distance, "reference": ref, "splits": rows,
                "naive_kfold": ({"k": k, "leak_fraction": self.naive_kfold_leak(n_splits=k)}
                                if k >= 2 else None),
                "duplicates_of_reference": copies}

    def table(self) -> str:
        """The audit as a text table, one row per split, and the cross-split duplicates."""
        info = self.to_dict()
        ref = info["reference"]
        dup_head = f"dup of {ref}"
        rows = [f"{'split':<6} {'files':>6} {'photos':>7} {'aug copies':>11} "
                f"{'dup pairs':>10} {dup_head:>13}"]
        for r in info["splits"]:
            dup = "-" if r["dup_of_reference"] is None else str(r["dup_of_reference"])
            rows.append(f"{r['split']:<6} {r['files']:>6} {r['photos']:>7} "
                        f"{r['aug_copies']:>11} {r['dup_pairs']:>10} {dup:>13}")
        lines = [f"Leakage audit of {info['root']} ({info['images']} images, "
                 f"{len(info['classes'])} classes; near-duplicate: pHash distance <= "
                 f"{self.max_distance} of 64 bits)", *rows,
                 "photos: distinct photos after merging augmented copies and near-duplicates; "
                 "aug copies: files named aug-<k>-<source>; dup pairs: near-duplicate pairs "
                 "not explained by names."]
        if info["naive_kfold"] is not None:
            nk = info["naive_kfold"]
            lines.append(f"An ungrouped stratified {nk['k']}-fold on {ref} puts "
                         f"{nk['leak_fraction']:.1%} of each validation fold next to a copy "
                         f"of the same photo in training.")
        for c in info["duplicates_of_reference"]:
            names = ", ".join(f"{m['file']} (d={m['distance']})" for m in c["duplicates"][:3])
            lines.append(f"  {c['file']} duplicates {names}")
        return "\n".join(lines)


def _read(path: str, size: int) -> np.ndarray:
    image = _pillow()
    try:
        with image.open(path) as img:
            rgb = img.convert("RGB").resize((size, size), image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except (OSError, SyntaxError) as exc:
        raise ConfigError(f"data_dir: {path} is not a readable image ({exc})") from None


def audit_image_folder(path: str | os.PathLike | ImageFolder, *, max_distance: int = 8,
                       hash_size: int = 64) -> ImageFolderAudit:
    """Audit an image-folder data set for augmented copies and near-duplicates.

    Parameters
    ----------
    path : path or ImageFolder
        The data set's folder (split folders or flat ``<class>/``, see the module
        doc), or a listing from :func:`scan_image_folder`.
    max_distance : int, default 8
        Largest pHash Hamming distance (of 64 bits) counted as the same photo.
    hash_size : int, default 64
        Images are read at this size before hashing (pHash shrinks to 32 px anyway).

    Returns
    -------
    ImageFolderAudit

    Raises
    ------
    ConfigError
        For a missing folder, a folder without images, an unreadable image or a
        threshold outside 0..64.
    ImportError
        When Pillow is not installed (the message says ``pip install pillow``).
    """
    max_distance = check_int("max_distance", max_distance, 0, 64)
    hash_size = check_int("hash_size", hash_size, 32)
    images = path if isinstance(path, ImageFolder) else scan_image_folder(path)
    provenance = images.groups()
    hashes = phash_many([_read(p, hash_size) for p in images.paths])
    found = find_near_duplicates(hashes, max_distance=max_distance)
    pairs = tuple((d.i, d.j, d.distance) for d in found if provenance[d.i] != provenance[d.j])
    groups = _merge(provenance, [(i, j) for i, j, _ in pairs])
    return ImageFolderAudit(images=images, provenance=provenance, groups=groups, pairs=pairs,
                            max_distance=max_distance)
