"""The jellyfish images: find them on disk, read them, feed them to Keras.

Two layouts are accepted:

* the Kaggle archive as it unpacks, ``[Train_Test_Valid/]{Train,valid,test}/<class>/``
  (split folder names matched without regard to case);
* a flat ``<class>/`` folder, read as one split named ``"all"``.

Image files are ``.jpg .jpeg .png`` in any case of the extension (the data set mixes
``.jpg``, ``.JPG``, ``.jpeg`` and ``.png``, 179 and 224 pixels). Every split must
hold every class: a split without a class is refused (a 6-way classifier scored on 5
classes is a different experiment).

:func:`scan` only lists files (and checks each one is an image Pillow can identify);
:func:`load_arrays` decodes and resizes them into a ``uint8`` array (memoised per
process); :func:`file_dataset` is the all-in-graph ``tf.data`` pipeline (decode,
resize, cache, batch, prefetch), :func:`array_dataset` the one the objective uses on
decoded arrays.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from hpstudy import ConfigError
from hpstudy.evaluation import groups_from_filenames

__all__ = [
    "EMBEDDED_DIR",
    "IMAGE_EXTENSIONS",
    "ImageSet",
    "array_dataset",
    "file_dataset",
    "load_arrays",
    "scan",
]

#: The downscaled copy of the real data set shipped with the example (128 px JPEGs).
EMBEDDED_DIR = Path(__file__).resolve().parent / "data"
#: Extensions read as images (compared in lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
_SPLITS = {"train": "train", "valid": "valid", "validation": "valid", "val": "valid",
           "test": "test"}


@attrs.frozen(kw_only=True)
class ImageSet:
    """The files of an image-folder data set, in a fixed order.

    Attributes
    ----------
    root : pathlib.Path
        The folder holding the splits (or the class folders).
    paths : tuple of str
        Every image file, absolute, sorted by split, class, then name.
    labels : numpy.ndarray of int
        Class index of each file (into ``class_names``).
    splits : numpy.ndarray of str
        Split of each file: ``"train"``, ``"valid"``, ``"test"`` or ``"all"``.
    class_names : tuple of str
        The class folders, sorted.
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

        The key is ``"<split>:<class>/<source stem>"``; the split is part of it, as the
        same name in two splits is not evidence of the same photo (perceptual hashing
        finds those, see :mod:`examples.jellyfish.audit`).
        """
        idx = self.indices() if index is None else np.asarray(index)
        keys = groups_from_filenames([self.paths[i] for i in idx.tolist()])
        return np.array([f"{s}:{k}" for s, k in zip(self.splits[idx], keys, strict=True)])


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS


def _class_folders(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")}


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
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ConfigError(f"data_dir: {path} is not a readable image ({exc})") from None


def scan(data_dir: str | os.PathLike | None = None, *, check: bool = True) -> ImageSet:
    """List the images of a data set (the Kaggle layout or a flat ``<class>/`` folder).

    Parameters
    ----------
    data_dir : path, optional
        The folder; None is the embedded copy (:data:`EMBEDDED_DIR`).
    check : bool, default True
        Open each file's header with Pillow, so that a broken file is reported now,
        with its name, rather than in the middle of training.

    Returns
    -------
    ImageSet

    Raises
    ------
    ConfigError
        When the folder is missing, holds no class folders, a split lacks a class
        (or holds one the others lack), a class folder holds no image, or an image
        is unreadable.
    """
    root = Path(EMBEDDED_DIR if data_dir is None else data_dir).expanduser()
    if not root.is_dir():
        raise ConfigError(f"data_dir: {str(root)!r} is not a folder")
    split_dirs = _find_splits(root) or {"all": root}
    per_split = {name: _class_folders(folder) for name, folder in split_dirs.items()}
    classes = sorted(set().union(*per_split.values()))
    if not classes:
        raise ConfigError(f"data_dir: no class folders in {str(root)!r} (expected "
                          "Train_Test_Valid/{Train,valid,test}/<class>/ or <class>/)")
    paths: list[str] = []
    labels: list[int] = []
    splits: list[str] = []
    order = [s for s in ("train", "valid", "test", "all") if s in per_split]
    for split in order:
        folders = per_split[split]
        for label, name in enumerate(classes):
            if name not in folders:
                raise ConfigError(f"data_dir: split {split!r} ({split_dirs[split]}) has no "
                                  f"folder for class {name!r}; every split needs all of "
                                  f"{classes}")
            files = sorted(p for p in folders[name].iterdir() if _is_image(p))
            if not files:
                raise ConfigError(f"data_dir: {folders[name]} holds no image "
                                  f"({', '.join(IMAGE_EXTENSIONS)})")
            for path in files:
                if check:
                    _check_readable(path)
                paths.append(str(path.resolve()))
                labels.append(label)
                splits.append(split)
    base = split_dirs[order[0]].parent if order[0] != "all" else root
    return ImageSet(root=base.resolve(), paths=tuple(paths), labels=np.asarray(labels),
                    splits=np.asarray(splits), class_names=tuple(classes))


_ARRAYS: dict[tuple, np.ndarray] = {}


def read_image(path: str | os.PathLike, img_size: int) -> np.ndarray:
    """One image as ``uint8`` RGB of shape ``(img_size, img_size, 3)`` (bilinear resize)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB").resize((img_size, img_size), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except OSError as exc:
        raise ConfigError(f"data_dir: {path} is not a readable image ({exc})") from None


def load_arrays(images: ImageSet, img_size: int) -> np.ndarray:
    """All images of the set, decoded and resized: ``uint8`` of shape ``(n, s, s, 3)``.

    Memoised per process by (files, size): the trials of a study decode once.
    """
    if isinstance(img_size, bool) or not isinstance(img_size, int) or img_size < 8:
        raise ConfigError(f"img_size: must be an integer >= 8 (got {img_size!r})")
    key = (images.paths, img_size)
    if key not in _ARRAYS:
        if len(_ARRAYS) > 4:
            _ARRAYS.clear()
        _ARRAYS[key] = np.stack([read_image(p, img_size) for p in images.paths])
    return _ARRAYS[key]


def file_dataset(paths: Sequence[str], labels: Any, img_size: int, batch_size: int, *,
                 shuffle_seed: int | None = None, cache: bool = True,
                 prefetch: bool = True) -> Any:
    """A ``tf.data`` pipeline from files: read, decode, resize, cache, shuffle, batch, prefetch.

    Decoding runs in the graph (``tf.io.decode_image``, JPEG and PNG); images come out as
    ``float32`` in [0, 255], shape ``(batch, img_size, img_size, 3)``, labels as ``int32``.
    Call :func:`scan` first: it reports unreadable files by name, which TensorFlow's
    decoder does not.
    """
    import tensorflow as tf

    def decode(path: Any, label: Any) -> tuple[Any, Any]:
        img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        img = tf.image.resize(img, (img_size, img_size))
        return img, label

    ds = tf.data.Dataset.from_tensor_slices((list(paths), np.asarray(labels, dtype=np.int32)))
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if shuffle_seed is not None:
        ds = ds.shuffle(len(paths), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


def array_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *,
                  shuffle_seed: int | None = None, augment: Any = None) -> Any:
    """A ``tf.data`` pipeline from decoded arrays: shuffle, batch, augment, prefetch.

    ``augment`` (a Keras layer or callable on a batch, see :mod:`examples.jellyfish.augment`)
    runs on training batches only; pass None for validation and test data.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, np.asarray(y, dtype=np.int32)))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        ds = ds.map(lambda a, b: (augment(tf.cast(a, tf.float32), training=True), b),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
