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

import numpy as np

from hpstudy import ConfigError
from hpstudy.evaluation import ImageFolder, scan_image_folder

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
#: The listing :func:`scan` returns (:class:`hpstudy.evaluation.ImageFolder`).
ImageSet = ImageFolder


def scan(data_dir: str | os.PathLike | None = None, *, check: bool = True) -> ImageSet:
    """List the images of a data set (the Kaggle layout or a flat ``<class>/`` folder).

    :func:`hpstudy.evaluation.scan_image_folder` with this example's rules: only
    ``.jpg .jpeg .png`` files, and every split must hold every class.

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
    return scan_image_folder(EMBEDDED_DIR if data_dir is None else data_dir,
                             extensions=IMAGE_EXTENSIONS, strict=True, check=check)


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
