"""The study's objective: train one configuration on one fold, report every epoch.

:class:`JellyfishObjective` is a frozen, picklable callable ``objective(params, ctx)``
(so a study may run it in a process pool). The fold's indices count positions in the
*pool*: the files of the splits named by ``pool`` (``("train",)`` by default, the
seed's 900 training images), in :func:`~examples.jellyfish.data.scan` order. Without
folds (``ctx.fold is None``) it trains on the pool and validates on ``valid``.

Families (``model_name``): ``Xception``, ``MobileNetV2``, ``SmallCNN`` (Keras, see
:mod:`examples.jellyfish.model`) and ``ColourHOG`` (:mod:`examples.jellyfish.baseline`).
A Keras family reports ``val_accuracy`` after every epoch through
:class:`hpstudy.integrations.keras.HpstudyCallback`, so Hyperband and the other stoppers
work; a pruned trial raises :class:`hpstudy.TrialPruned` out of ``fit``. Frozen-base
trials without augmentation train the head on cached features
(:mod:`examples.jellyfish.features`).

Returned metrics: ``val_accuracy`` (last epoch), ``test_accuracy`` (the trained model on
the ``test`` split, when the data set has one), ``test_accuracy_clean`` (the same without
the test files in ``test_exclude``) and ``seconds`` (the task's wall time).
"""

from __future__ import annotations

import os
import time
from typing import Any

import attrs
import numpy as np

from hpstudy import ConfigError

__all__ = ["JellyfishObjective"]

_SCANS: dict[Any, Any] = {}
_THREADS_SET = False


def _set_threads(threads: int | None) -> None:
    """Intra- and inter-op threads of TensorFlow, once per process (before it starts)."""
    global _THREADS_SET
    if _THREADS_SET:
        return
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing notes of predict() in every trial
    if threads is None:
        _THREADS_SET = True
        return

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already initialised in this process: keep its setting
        pass
    _THREADS_SET = True


def _check_pool(_: Any, __: Any, value: tuple[str, ...]) -> None:
    if not value or any(s not in ("train", "valid", "test", "all") for s in value):
        raise ConfigError(f"pool: must name splits among train, valid, test, all (got {value!r})")


@attrs.frozen(kw_only=True)
class JellyfishObjective:
    """Train and score one configuration on one fold of the jellyfish images.

    Parameters
    ----------
    data_dir : str, optional
        The data set's folder; None is the embedded 128 px copy.
    pool : tuple of str, default ("train",)
        The splits the folds index into, concatenated in scan order.
    weights : "imagenet", str or None, default None
        Weights of the Xception / MobileNetV2 base (see :mod:`examples.jellyfish.model`).
    cache_dir : str, optional
        Where frozen-base features are cached; None computes them in every trial.
    threads : int, optional
        TensorFlow threads per process (``os.cpu_count() // workers`` is sensible).
    base_seed : int, default 0
        Seed of a randomly initialised (``weights=None``) Xception or MobileNetV2 base:
        every trial starts from the same base, as it would from ImageNet weights.
    feature_cache : bool, default True
        Train frozen-base, unaugmented trials on the base's features (computed once,
        kept in ``cache_dir``); False runs the base on every batch of every epoch.
    test_exclude : tuple of int, default ()
        Positions (in the data set) of test files to leave out of ``test_accuracy_clean``:
        the near-duplicates of training images found by
        :func:`~examples.jellyfish.audit.audit_data`.
    """

    data_dir: str | None = None
    pool: tuple[str, ...] = attrs.field(default=("train",), converter=tuple, validator=_check_pool)
    weights: str | None = None
    cache_dir: str | None = None
    threads: int | None = None
    base_seed: int = 0
    feature_cache: bool = True
    test_exclude: tuple[int, ...] = attrs.field(default=(), converter=lambda v: tuple(map(int, v)))

    def images(self) -> Any:
        """The data set's :class:`~examples.jellyfish.data.ImageSet` (scanned once a process)."""
        from examples.jellyfish.data import scan

        if self.data_dir not in _SCANS:
            _SCANS[self.data_dir] = scan(self.data_dir)
        return _SCANS[self.data_dir]

    def split_indices(self, fold: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions in the data set of the fold's train, validation and test files."""
        images = self.images()
        pool = images.indices(*self.pool)
        if fold is None:
            train, val = pool, images.indices("valid")
        else:
            if max(fold.train.max(), fold.val.max()) >= len(pool):
                raise ConfigError(f"folds: index out of range for a pool of {len(pool)} "
                                  f"files ({'+'.join(self.pool)})")
            train, val = pool[fold.train], pool[fold.val]
        test = images.indices("test") if "test" in images.split_names else np.array([], int)
        return train, val, test

    def __call__(self, params: dict, ctx: Any) -> dict[str, float]:
        """Train on the fold's training files, return the metrics (see the module doc)."""
        start = time.perf_counter()
        train, val, test = self.split_indices(ctx.fold)
        if params.get("model_name") == "ColourHOG":
            metrics = self._baseline(params, ctx, train, val, test)
        else:
            metrics = self._keras(params, ctx, train, val, test)
        metrics["seconds"] = time.perf_counter() - start
        return metrics

    def _test_scores(self, predicted: np.ndarray, test: np.ndarray) -> dict[str, float]:
        correct = predicted == self.images().labels[test]
        out = {"test_accuracy": float(np.mean(correct))}
        if self.test_exclude:
            keep = ~np.isin(test, self.test_exclude)
            out["test_accuracy_clean"] = float(np.mean(correct[keep]))
        return out

    def _baseline(self, params: dict, ctx: Any, train: np.ndarray, val: np.ndarray,
                  test: np.ndarray) -> dict[str, float]:
        import warnings

        from examples.jellyfish.baseline import hog_colour_features, make_classifier
        from examples.jellyfish.data import load_arrays

        images = self.images()
        x = hog_colour_features(load_arrays(images, int(params.get("img_size", 64))))
        y = images.labels
        clf = make_classifier(params, ctx.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings at extreme C
            clf.fit(x[train], y[train])
        out = {"val_accuracy": float(clf.score(x[val], y[val]))}
        if len(test):
            out.update(self._test_scores(clf.predict(x[test]), test))
        return out

    def _keras(self, params: dict, ctx: Any, train: np.ndarray, val: np.ndarray,
               test: np.ndarray) -> dict[str, float]:
        _set_threads(self.threads)
        import keras

        from examples.jellyfish import features as feat
        from examples.jellyfish import model as model_mod
        from examples.jellyfish.augment import make_augmenter
        from examples.jellyfish.data import load_arrays
        from hpstudy.integrations.keras import HpstudyCallback

        keras.backend.clear_session()
        keras.utils.set_random_seed(ctx.seed)
        images = self.images()
        y = images.labels
        n_classes = len(images.class_names)
        if self.feature_cache and feat.cacheable(params):
            x = feat.features(images, params, weights=self.weights, cache_dir=self.cache_dir,
                              base_seed=self.base_seed)
            net = model_mod.head(x.shape[1], n_classes, float(params.get("dropout", 0.3)),
                                 ctx.seed)
            augment = None
        else:
            x = load_arrays(images, int(params.get("img_size", 64)))
            base = None
            if params.get("model_name") in ("Xception", "MobileNetV2"):
                # the same start for every trial, as ImageNet weights would be (and the
                # same base as the feature cache's)
                base = feat.build_cached_base(params, self.weights, self.base_seed)
                keras.utils.set_random_seed(ctx.seed)
            net = model_mod.build_model(params, n_classes, weights=self.weights, seed=ctx.seed,
                                        base=base)
            augment = make_augmenter(params.get("augment", "none"), seed=ctx.seed)
        callback = HpstudyCallback(ctx, monitor="val_accuracy")
        history = feat.fit(net, (x[train], y[train]), (x[val], y[val]), params, seed=ctx.seed,
                           callbacks=[callback], augment=augment)
        out = {"val_accuracy": float(history.history["val_accuracy"][-1])}
        if len(test):
            probs = net.predict(x[test], batch_size=64, verbose=0)
            out.update(self._test_scores(probs.argmax(axis=1), test))
        return out


def default_threads(n_jobs: int) -> int:
    """TensorFlow threads per worker: the machine's cores shared among the workers."""
    return max(1, (os.cpu_count() or 1) // max(1, n_jobs))
