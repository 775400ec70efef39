"""The best model, back: retrain the best configuration, export it, predict with it.

``python -m examples.jellyfish retrain-best STUDY.db [--out DIR]``
    Reads the study's best trial, trains its configuration on all of Train, scores it on
    valid and test with 95 % Wilson intervals, with and without the valid/test images
    that copy a Train image (:func:`hpstudy.evaluation.audit_image_folder`), and writes
    ``DIR``: ``labels.txt`` (one class a line, in output order), ``model.json`` (the
    configuration, the scores, the image size) and the model:

    * Keras families: ``model.keras`` and ``model.tflite`` (TensorFlow Lite, converted
      with ``tf.lite.TFLiteConverter`` from the model's SavedModel export; what the
      seed's Flutter app consumed). Inputs: ``float32`` pixels in [0, 255], shape
      ``(1, img_size, img_size, 3)``; outputs: class probabilities.
    * ``ColourHOG``: ``model.joblib`` (the scikit-learn pipeline). No TensorFlow Lite:
      the features are computed by scikit-image, outside any graph.

``python -m examples.jellyfish predict --model DIR IMAGE...``
    The top classes of each image with their probabilities, from each format of the
    directory (Keras and TFLite side by side, with their largest difference).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from hpstudy import ConfigError

__all__ = ["predict", "retrain_best"]


def _interval_line(name: str, correct: int, n: int) -> dict[str, Any]:
    from hpstudy.stats import proportion_interval

    ci = proportion_interval(correct, n)
    return {"name": name, "accuracy": correct / n, "correct": correct, "n": n,
            "low": ci.low, "high": ci.high}


def _train_keras(params: dict, images: Any, train: np.ndarray, val: np.ndarray, *,
                 weights: Any, seed: int, base_seed: int = 0) -> Any:
    import keras

    from examples.jellyfish import features as feat
    from examples.jellyfish import model as model_mod
    from examples.jellyfish.augment import make_augmenter
    from examples.jellyfish.data import load_arrays

    keras.backend.clear_session()
    x = load_arrays(images, int(params.get("img_size", 64)))
    base = None
    if params.get("model_name") in ("Xception", "MobileNetV2"):
        base = feat.build_cached_base(params, weights, base_seed)  # the study's base
    keras.utils.set_random_seed(seed)
    net = model_mod.build_model(params, len(images.class_names), weights=weights, seed=seed,
                                base=base)
    feat.fit(net, (x[train], images.labels[train]), (x[val], images.labels[val]), params,
             seed=seed, augment=make_augmenter(params.get("augment", "none"), seed=seed))
    return net


def _to_tflite(net: Any) -> bytes:
    """TensorFlow Lite bytes of a Keras model, through a SavedModel export.

    (Converting a ``tf.function`` of a Keras 3 model directly leaves its variables
    behind: the interpreter then returns NaN.)
    """
    import tempfile

    import tensorflow as tf

    with tempfile.TemporaryDirectory() as tmp:
        net.export(os.path.join(tmp, "saved"), format="tf_saved_model", verbose=False)
        return tf.lite.TFLiteConverter.from_saved_model(os.path.join(tmp, "saved")).convert()


def retrain_best(study: str | os.PathLike, out: str | os.PathLike, *,
                 data_dir: str | None = None, weights: Any = None, seed: int = 0) -> dict:
    """Train the study's best configuration on all of Train, score it, export it.

    Parameters
    ----------
    study : path
        The study's SQLite file.
    out : path
        The directory to write (created; files in it are replaced).
    data_dir : str, optional
        The data set (None: the embedded copy).
    weights : "imagenet", path or None
        Base weights of Xception / MobileNetV2 (as in the study).
    seed : int, default 0
        Seed of the training run.

    Returns
    -------
    dict
        What ``model.json`` holds: ``params``, ``trial``, ``img_size``, ``classes``,
        ``scores`` (accuracy, correct, n, Wilson ``low`` and ``high`` of
        ``valid``, ``valid_clean``, ``test``, ``test_clean``) and ``files``.
    """
    from examples.jellyfish.audit import audit_data
    from hpstudy.report import load_study_data

    best = load_study_data(study).trials.best()
    if best is None:
        raise ConfigError(f"study: {os.fspath(study)!r} has no completed trial")
    params = dict(best.params)
    audit = audit_data(data_dir)
    images = audit.images
    train, val = images.indices("train"), images.indices("valid")
    test = images.indices("test") if "test" in images.split_names else np.array([], int)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    size = int(params.get("img_size", 64))
    files = ["labels.txt", "model.json"]
    if params.get("model_name") == "ColourHOG":
        import joblib

        from examples.jellyfish.baseline import hog_colour_features, make_classifier
        from examples.jellyfish.data import load_arrays

        x = hog_colour_features(load_arrays(images, size))
        clf = make_classifier(params, seed).fit(x[train], images.labels[train])
        predicted = clf.predict(x)
        joblib.dump(clf, out / "model.joblib")
        files.append("model.joblib")
    else:
        from examples.jellyfish.data import load_arrays

        net = _train_keras(params, images, train, val, weights=weights, seed=seed)
        predicted = net.predict(load_arrays(images, size).astype("float32"), batch_size=64,
                                verbose=0).argmax(axis=1)
        net.save(out / "model.keras")
        (out / "model.tflite").write_bytes(_to_tflite(net))
        files += ["model.keras", "model.tflite"]
    right = predicted == images.labels
    scores = []
    for name, idx in (("valid", val), ("valid_clean", audit.clean("valid")),
                      ("test", test), ("test_clean", audit.clean("test") if len(test) else test)):
        if len(idx):
            scores.append(_interval_line(name, int(right[idx].sum()), len(idx)))
    info = {"trial": best.number, "study_value": best.value, "params": params,
            "img_size": size, "classes": list(images.class_names), "scores": scores,
            "files": files, "seed": seed}
    (out / "labels.txt").write_text("\n".join(images.class_names) + "\n")
    (out / "model.json").write_text(json.dumps(info, indent=2, default=float) + "\n")
    return info


def _load_dir(model_dir: Path) -> tuple[dict, list[str]]:
    meta, labels = model_dir / "model.json", model_dir / "labels.txt"
    if not meta.is_file() or not labels.is_file():
        raise ConfigError(f"--model: {str(model_dir)!r} holds no model.json and labels.txt "
                          f"(write one with retrain-best)")
    return json.loads(meta.read_text()), labels.read_text().split("\n")[:-1]


def _tflite_probs(path: Path, pixels: np.ndarray) -> np.ndarray:
    import warnings

    import tensorflow as tf

    with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated" (LiteRT's is alike)
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path))
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], (1, *pixels.shape[1:]))
    interpreter.allocate_tensors()
    outp = interpreter.get_output_details()[0]
    rows = []
    for img in pixels:
        interpreter.set_tensor(inp["index"], img[None].astype(np.float32))
        interpreter.invoke()
        rows.append(interpreter.get_tensor(outp["index"])[0].copy())
    return np.asarray(rows)


def predict(model_dir: str | os.PathLike, paths: list[str]) -> dict[str, np.ndarray]:
    """Class probabilities of images from every format in ``model_dir``.

    Returns
    -------
    dict
        Format name (``"keras"``, ``"tflite"`` or ``"joblib"``) -> array ``(n, classes)``.
        For a ColourHOG model without ``predict_proba`` (the SVM) the ``"joblib"`` rows
        are a softmax of its decision values: scores, not calibrated probabilities.
    """
    from examples.jellyfish.data import read_image

    model_dir = Path(model_dir)
    info, labels = _load_dir(model_dir)
    size = int(info["img_size"])
    pixels = np.stack([read_image(p, size) for p in paths])
    out: dict[str, np.ndarray] = {}
    if (model_dir / "model.joblib").is_file():
        import joblib

        from examples.jellyfish.baseline import describe

        clf = joblib.load(model_dir / "model.joblib")
        x = np.stack([describe(img) for img in pixels])
        if hasattr(clf, "predict_proba"):
            out["joblib"] = clf.predict_proba(x)
        else:
            z = clf.decision_function(x)
            z = np.exp(z - z.max(axis=1, keepdims=True))
            out["joblib"] = z / z.sum(axis=1, keepdims=True)
    if (model_dir / "model.keras").is_file():
        import keras

        net = keras.saving.load_model(model_dir / "model.keras")
        out["keras"] = np.asarray(net.predict(pixels.astype(np.float32), verbose=0))
    if (model_dir / "model.tflite").is_file():
        out["tflite"] = _tflite_probs(model_dir / "model.tflite", pixels)
    if not out:
        raise ConfigError(f"--model: {str(model_dir)!r} holds no model.keras, model.tflite "
                          f"or model.joblib")
    if any(p.shape[1] != len(labels) for p in out.values()):
        raise ConfigError(f"--model: labels.txt has {len(labels)} classes, the model "
                          f"{next(iter(out.values())).shape[1]}")
    return out


def predict_text(model_dir: str | os.PathLike, paths: list[str], top: int = 3) -> str:
    """The text of ``python -m examples.jellyfish predict``."""
    probs = predict(model_dir, paths)
    _, labels = _load_dir(Path(model_dir))
    lines = []
    for i, path in enumerate(paths):
        lines.append(f"{path}:")
        for fmt, p in probs.items():
            order = np.argsort(-p[i])[:top]
            tops = ", ".join(f"{labels[k]} {p[i, k]:.4f}" for k in order)
            lines.append(f"  {fmt:<7} {tops}")
    if "keras" in probs and "tflite" in probs:
        diff = float(np.max(np.abs(probs["keras"] - probs["tflite"])))
        lines.append(f"largest |keras - tflite| probability difference: {diff:.2e}")
    return "\n".join(lines)
