"""The classifiers: the seed's transfer-learning models and a CNN a CPU can afford.

Families (the sweep's ``model_name``):

* ``Xception`` and ``MobileNetV2`` (``keras.applications``): the base without its top,
  global average pooling, dropout, a softmax over the classes. Inputs are pixels in
  [0, 255], rescaled to [-1, 1] inside the model (what both bases were trained on).
  ``mobilenet_alpha`` sets MobileNetV2's width (0.35 to 1.4).
* ``SmallCNN``: ``cnn_depth`` blocks of conv 3x3 - BatchNorm - ReLU - max-pool, the
  first with ``cnn_width`` filters, doubling each block; then the same head.

Fine-tuning and BatchNorm
-------------------------
``fine_tune_layers = 0`` freezes the whole base (only the head trains);
``n > 0`` makes the last ``n`` entries of ``base.layers`` trainable, whatever their kind
(as the seed's ``base.layers[-n:]``), except BatchNormalization layers, and freezes the
rest. BatchNorm layers always stay frozen: in Keras 3 a frozen BatchNorm layer runs in
inference mode, so its moving mean and variance never update and its ``gamma`` and
``beta`` never train (the Keras fine-tuning guide's advice: updating them from small
batches of a small data set wrecks what the base learned). The base is also called with
``training=False``, but Keras 3 does not keep that flag for a trainable BatchNorm layer
inside a functional model (measured: its moving statistics moved during ``fit``), hence
the freezing.

Weights
-------
``"imagenet"`` asks Keras for the ImageNet weights (downloaded once into
``~/.keras/models``; needs the internet), a path loads a weights file of the base
(``*.weights.h5`` or the ``*_notop.h5`` files Keras distributes), None is random
initialisation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hpstudy import ConfigError

__all__ = ["FAMILIES", "OPTIMIZERS", "build_base", "build_model", "make_optimizer",
           "set_fine_tune_layers"]

FAMILIES = ("Xception", "MobileNetV2", "SmallCNN")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
_MIN_SIZE = {"Xception": 71, "MobileNetV2": 32, "SmallCNN": 8}


def _keras() -> Any:
    import keras

    return keras


def check_weights(weights: Any) -> str | None:
    """Validate ``weights``: ``"imagenet"``, an existing file path, or None."""
    if weights is None or weights == "imagenet":
        return weights
    if isinstance(weights, (str, os.PathLike)):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ConfigError(f"weights: {str(path)!r} is not a file; give 'imagenet', "
                              f"a path to a weights file of the base, or none")
        return str(path)
    raise ConfigError(f"weights: must be 'imagenet', a file path or None (got {weights!r})")


def build_base(model_name: str, img_size: int, *, weights: Any = None,
               alpha: float = 1.0) -> Any:
    """The pretrained (or random) base of ``Xception`` or ``MobileNetV2``, no top, avg pooling.

    Raises
    ------
    ConfigError
        For an unknown family, an image too small for it, a missing weights file, or
        ImageNet weights that cannot be downloaded (the message names the alternatives).
    """
    keras = _keras()
    weights = check_weights(weights)
    if model_name not in ("Xception", "MobileNetV2"):
        raise ConfigError(f"model_name: {model_name!r} has no pretrained base "
                          f"(choose Xception or MobileNetV2)")
    if img_size < _MIN_SIZE[model_name]:
        raise ConfigError(f"img_size: {model_name} needs at least {_MIN_SIZE[model_name]} "
                          f"pixels (got {img_size})")
    shape = (img_size, img_size, 3)
    try:
        if model_name == "Xception":
            return keras.applications.Xception(include_top=False, weights=weights,
                                               input_shape=shape, pooling="avg")
        return keras.applications.MobileNetV2(include_top=False, weights=weights,
                                              input_shape=shape, pooling="avg", alpha=alpha)
    except ValueError as exc:
        raise ConfigError(f"weights/mobilenet_alpha: {exc}") from None
    except Exception as exc:
        if weights != "imagenet":
            raise
        raise ConfigError(
            f"weights: the ImageNet weights of {model_name} could not be downloaded "
            f"({type(exc).__name__}: {str(exc)[:200]}). Keras fetches them from "
            f"storage.googleapis.com into ~/.keras/models on first use. Alternatives: "
            f"copy the '*_notop.h5' file there or pass its path (--weights PATH), or use "
            f"--weights none (random initialisation: no transfer learning)"
        ) from None


def set_fine_tune_layers(base: Any, n: int) -> None:
    """Freeze the base except its last ``n`` layers, BatchNorm excepted (``n = 0``: all)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"fine_tune_layers: must be an integer >= 0 (got {n!r})")
    layers = base.layers
    if n > len(layers):
        raise ConfigError(f"fine_tune_layers: the base has {len(layers)} layers (got {n})")
    keras = _keras()
    base.trainable = n > 0
    if n > 0:
        for i, layer in enumerate(layers):
            is_bn = isinstance(layer, keras.layers.BatchNormalization)
            layer.trainable = i >= len(layers) - n and not is_bn


def _small_cnn(img_size: int, width: int, depth: int, seed: int) -> Any:
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((img_size, img_size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    for block in range(depth):
        x = layers.Conv2D(width * 2**block, 3, padding="same", use_bias=False,
                          kernel_initializer=keras.initializers.HeNormal(seed + block))(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, x, name=f"small_cnn_w{width}_d{depth}")


def head(n_features: int, n_classes: int, dropout: float, seed: int) -> Any:
    """The classifier head on pooled features: dropout, then a softmax layer."""
    keras = _keras()
    inputs = keras.Input((n_features,), name="features")
    x = keras.layers.Dropout(dropout, seed=seed)(inputs)
    outputs = keras.layers.Dense(n_classes, activation="softmax",
                                 kernel_initializer=keras.initializers.GlorotUniform(seed),
                                 name="predictions")(x)
    return keras.Model(inputs, outputs, name="head")


def _param(params: dict, key: str, default: Any) -> Any:
    return params.get(key, default)


def build_model(params: dict, n_classes: int, *, weights: Any = None, seed: int = 0,
                base: Any = None) -> Any:
    """The whole classifier a configuration describes (not compiled).

    Parameters
    ----------
    params : dict
        ``model_name``, ``img_size``, ``dropout``, ``fine_tune_layers`` (pretrained
        families), ``mobilenet_alpha``, ``cnn_width``, ``cnn_depth``.
    n_classes : int
    weights : "imagenet", path or None
        The base's weights (pretrained families only).
    seed : int
        Seeds the head's (and the small CNN's) initialisation and dropout.
    base : keras.Model, optional
        A base already built (shared with the feature cache).

    Returns
    -------
    keras.Model
        Pixels in [0, 255] in, class probabilities out.
    """
    keras = _keras()
    name = _param(params, "model_name", "SmallCNN")
    if name not in FAMILIES:
        raise ConfigError(f"model_name: must be one of {list(FAMILIES)} (got {name!r})")
    size = int(_param(params, "img_size", 64))
    dropout = float(_param(params, "dropout", 0.3))
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"dropout: must be in [0, 1) (got {dropout})")
    inputs = keras.Input((size, size, 3), name="pixels")
    if name == "SmallCNN":
        width, depth = int(_param(params, "cnn_width", 16)), int(_param(params, "cnn_depth", 3))
        if width < 1 or not 1 <= depth <= 6:
            raise ConfigError(f"cnn_width, cnn_depth: need width >= 1 and depth in 1..6 "
                              f"(got {width}, {depth})")
        if size < 2**depth:
            raise ConfigError(f"img_size: {depth} pooling blocks need >= {2**depth} px "
                              f"(got {size})")
        body = base if base is not None else _small_cnn(size, width, depth, seed)
        features = body(inputs)
    else:
        if base is None:
            base = build_base(name, size, weights=weights,
                              alpha=float(_param(params, "mobilenet_alpha", 1.0)))
        set_fine_tune_layers(base, int(_param(params, "fine_tune_layers", 0)))
        x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
        features = base(x, training=False)  # BatchNorm in inference mode, always
    outputs = head(int(features.shape[-1]), n_classes, dropout, seed)(features)
    return keras.Model(inputs, outputs, name=f"{name.lower()}_classifier")


def make_optimizer(name: str, learning_rate: float) -> Any:
    """``adam``, ``rmsprop`` or ``sgd`` (momentum 0.9) with the learning rate."""
    keras = _keras()
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ConfigError(f"learning_rate: must be > 0 (got {learning_rate!r})")
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    raise ConfigError(f"optimizer: must be one of {list(OPTIMIZERS)} (got {name!r})")
