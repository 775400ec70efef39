"""Frozen-base features, computed once and reused by every trial that can use them.

When a trial freezes the whole base (``fine_tune_layers = 0``) and does not augment,
the base maps each image to the same vector in every epoch of every trial: only the
head learns. So the study computes the base's features once per (family, image size,
width, weights, images), stores them under ``cache_dir`` (a ``.npy`` file named by a
fingerprint of all of these), and such trials train the head alone on the vectors:
the same model, the same result, a fraction of the time
(``python -m benchmarks.bench_jellyfish``).

With ``weights=None`` (random initialisation) the cached base is built with a fixed
seed (``base_seed``), not the trial's: every trial then shares one random base, which
is what makes the features reusable. The fingerprint includes that seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from examples.jellyfish import model as model_mod
from examples.jellyfish.data import ImageSet, load_arrays

__all__ = ["cacheable", "features", "fingerprint", "fit"]


def cacheable(params: dict) -> bool:
    """True when a configuration's trials can train on cached features."""
    return (params.get("model_name") in ("Xception", "MobileNetV2")
            and int(params.get("fine_tune_layers", 0)) == 0
            and params.get("augment", "none") in ("none", None, False))


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint(images: ImageSet, params: dict, weights: Any, base_seed: int = 0) -> str:
    """A key naming the features of these images under this base (hex, 20 characters)."""
    import keras

    weights = model_mod.check_weights(weights)
    files = [(os.path.relpath(p, images.root), os.path.getsize(p)) for p in images.paths]
    key = {
        "model_name": params["model_name"],
        "img_size": int(params["img_size"]),
        "alpha": float(params.get("mobilenet_alpha", 1.0)) if params["model_name"] == "MobileNetV2" else None,
        "weights": weights if weights in (None, "imagenet") else _file_digest(weights),
        "base_seed": base_seed if weights is None else None,
        "keras": keras.__version__,
        "files": files,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def build_cached_base(params: dict, weights: Any, base_seed: int = 0) -> Any:
    """The base the cache describes (seeded with ``base_seed`` when random)."""
    import keras

    if weights is None:
        keras.utils.set_random_seed(base_seed)
    return model_mod.build_base(params["model_name"], int(params["img_size"]), weights=weights,
                                alpha=float(params.get("mobilenet_alpha", 1.0)))


def features(images: ImageSet, params: dict, *, weights: Any = None,
             cache_dir: str | os.PathLike | None = None, base_seed: int = 0,
             batch_size: int = 64) -> np.ndarray:
    """The frozen base's pooled features of every image of the set, ``(n, d)`` float32.

    Read from ``cache_dir`` when there, otherwise computed and written there
    (atomically, so parallel workers never read half a file). ``cache_dir=None``
    computes without caching.
    """
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"features-{fingerprint(images, params, weights, base_seed)}.npy"
        if path.is_file():
            return np.load(path)
    import keras

    base = build_cached_base(params, weights, base_seed)
    pixels = load_arrays(images, int(params["img_size"]))
    scale = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)
    out = np.concatenate([
        np.asarray(base(scale(pixels[i : i + batch_size].astype("float32")), training=False))
        for i in range(0, len(pixels), batch_size)
    ]).astype(np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, out)
        os.replace(tmp, path)
    return out


def fit(net: Any, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
        params: dict, *, seed: int, callbacks: list | None = None, augment: Any = None) -> Any:
    """Compile ``net`` with the configuration's optimizer and train it; returns the History.

    ``train`` and ``val`` are (inputs, labels): pixels for a whole model, feature vectors
    for a head. Batches are shuffled with ``seed``; ``augment`` runs on training batches.
    """
    from examples.jellyfish.data import array_dataset

    batch = int(params.get("batch_size", 32))
    net.compile(optimizer=model_mod.make_optimizer(params.get("optimizer", "adam"),
                                                   float(params.get("learning_rate", 1e-3))),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train_ds = array_dataset(train[0], train[1], batch, shuffle_seed=seed, augment=augment)
    val_ds = array_dataset(val[0], val[1], batch)
    return net.fit(train_ds, validation_data=val_ds, epochs=int(params.get("epochs", 10)),
                   callbacks=callbacks or [], shuffle=False, verbose=0)
