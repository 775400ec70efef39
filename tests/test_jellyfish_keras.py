"""The jellyfish example's Keras parts: weights, fine-tuning, augmentation, cache, objective."""

from __future__ import annotations

import os

import numpy as np
import pytest

from hpstudy import ConfigError, TrialPruned

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytestmark = pytest.mark.keras

from examples.jellyfish import augment, data, features, model  # noqa: E402
from examples.jellyfish.objective import JellyfishObjective  # noqa: E402
from tests.test_jellyfish_data import kaggle  # noqa: E402

SMALL_MOBILENET = {"model_name": "MobileNetV2", "img_size": 32, "mobilenet_alpha": 0.35}


class Ctx:
    """Records reports; prunes at ``prune_at``, as the study's TrialContext would."""

    def __init__(self, fold=None, seed=3, prune_at=None):
        self.fold, self.seed, self.trial_number = fold, seed, 0
        self.prune_at, self.reports = prune_at, []

    def report(self, step, value):
        self.reports.append((step, value))
        if step == self.prune_at:
            raise TrialPruned(f"pruned at {step}")


@pytest.mark.slow
def test_weights_load_from_a_file_the_test_saves(tmp_path):
    keras.utils.set_random_seed(1)
    saved = model.build_base("MobileNetV2", 32, alpha=0.35)
    path = tmp_path / "base.weights.h5"
    saved.save_weights(path)
    keras.utils.set_random_seed(2)
    net = model.build_model({**SMALL_MOBILENET}, 6, weights=str(path))
    loaded = net.get_layer(saved.name)
    for a, b in zip(saved.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    keras.utils.set_random_seed(2)
    fresh = model.build_model({**SMALL_MOBILENET}, 6, weights=None).get_layer(saved.name)
    assert not all(np.array_equal(a, b) for a, b in
                   zip(saved.get_weights(), fresh.get_weights(), strict=True))
    with pytest.raises(ConfigError, match="is not a file"):
        model.build_model({**SMALL_MOBILENET}, 6, weights=str(tmp_path / "missing.h5"))


def test_imagenet_weights_unavailable_give_a_clear_error(monkeypatch):
    home = os.path.expanduser(os.path.join("~", ".keras", "models"))
    if os.path.isdir(home) and any("0.35_96_no_top" in f for f in os.listdir(home)):
        pytest.skip("the ImageNet weights are cached here, so nothing fails")
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # no download, even with internet
    with pytest.raises(ConfigError, match="could not be downloaded.*--weights PATH.*none"):
        model.build_base("MobileNetV2", 96, weights="imagenet", alpha=0.35)


@pytest.mark.parametrize("n", [0, 10, 30])
def test_fine_tune_layers_unfreezes_exactly_the_last_n_but_batchnorm(n):
    keras.utils.set_random_seed(0)
    net = model.build_model({**SMALL_MOBILENET, "fine_tune_layers": n}, 6)
    base = next(layer for layer in net.layers if layer.name.startswith("mobilenetv2"))
    is_bn = [isinstance(layer, keras.layers.BatchNormalization) for layer in base.layers]
    flags = [layer.trainable for layer in base.layers]
    cut = len(flags) - n
    assert flags[:cut] == [False] * cut
    assert flags[cut:] == [not bn for bn in is_bn[cut:]]
    if n == 30:
        assert 0 < sum(is_bn[cut:]) < n  # the case says something about BatchNorm
    expected = sum(len(layer.trainable_weights) for layer in base.layers[cut:]) if n else 0
    assert len(net.trainable_weights) == expected + 2  # + the head's kernel and bias
    with pytest.raises(ConfigError, match="fine_tune_layers"):
        model.set_fine_tune_layers(base, len(flags) + 1)


@pytest.mark.slow
def test_batchnorm_stays_frozen_while_fine_tuning():
    keras.utils.set_random_seed(0)
    net = model.build_model({**SMALL_MOBILENET, "fine_tune_layers": 30}, 6)
    base = next(layer for layer in net.layers if layer.name.startswith("mobilenetv2"))
    bns = [layer for layer in base.layers[-30:]
           if isinstance(layer, keras.layers.BatchNormalization)]
    before = [[w.copy() for w in layer.get_weights()] for layer in bns]
    head_before = net.get_layer("head").get_weights()[0].copy()
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32"), np.arange(8) % 6
    net.compile(optimizer=model.make_optimizer("sgd", 0.1), loss="sparse_categorical_crossentropy")
    net.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for old, layer in zip(before, bns, strict=True):
        for a, b in zip(old, layer.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)  # gamma, beta, moving mean and variance
    assert not np.array_equal(head_before, net.get_layer("head").get_weights()[0])


@pytest.mark.parametrize("policy", ["light", pytest.param("full", marks=pytest.mark.slow)])
def test_augmentations_keep_shape_and_range(policy):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    aug = augment.make_augmenter(policy, seed=0)
    out = np.asarray(aug(x, training=True))
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    assert np.abs(out - x).mean() > 1.0  # it did something
    np.testing.assert_allclose(np.asarray(aug(x, training=False)), x, atol=1e-3)


def test_grid_distortion_is_the_identity_at_zero_limit_and_warps_otherwise():
    grid = augment._layers()["RandomGridDistortion"]
    x = np.random.default_rng(0).uniform(0, 255, (2, 20, 24, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(grid(limit=0.0, seed=0)(x)), x, atol=1e-3)
    warped = np.asarray(grid(limit=0.4, seed=0)(x))
    assert warped.shape == x.shape and np.abs(warped - x).mean() > 1.0
    assert augment.make_augmenter("none") is None
    with pytest.raises(ConfigError, match="augment"):
        augment.make_augmenter("heavy")


def test_features_are_cached_on_disk_by_fingerprint(tmp_path):
    images = data.scan(kaggle(tmp_path / "d", leak=False))
    params = {**SMALL_MOBILENET, "fine_tune_layers": 0}
    first = features.features(images, params, cache_dir=tmp_path / "c")
    files = list((tmp_path / "c").iterdir())
    assert len(files) == 1 and first.shape == (len(images), 1280)
    np.testing.assert_array_equal(features.features(images, params, cache_dir=tmp_path / "c"),
                                  first)
    other = features.fingerprint(images, {**params, "img_size": 48}, None)
    assert other != features.fingerprint(images, params, None)
    assert features.cacheable(params) and not features.cacheable({**params, "augment": "light"})


@pytest.mark.slow
def test_cached_and_uncached_training_give_the_same_head(tmp_path):
    images = data.scan(kaggle(tmp_path / "d", leak=False, n_train=4))
    params = {**SMALL_MOBILENET, "fine_tune_layers": 0, "dropout": 0.3, "epochs": 2,
              "batch_size": 4, "optimizer": "adam", "learning_rate": 0.01}
    y = images.labels
    feats = features.features(images, params, cache_dir=tmp_path / "c")
    head = model.head(feats.shape[1], 2, 0.3, seed=5)
    init = head.get_layer("predictions").get_weights()[0].copy()
    features.fit(head, (feats, y), (feats, y), params, seed=5)
    full = model.build_model(params, 2, base=features.build_cached_base(params, None), seed=5)
    pixels = data.load_arrays(images, 32)
    features.fit(full, (pixels, y), (pixels, y), params, seed=5)
    cached = head.get_layer("predictions").get_weights()[0]
    uncached = full.get_layer("head").get_layer("predictions").get_weights()[0]
    assert not np.allclose(cached, init)  # the head did learn
    np.testing.assert_allclose(cached, uncached, atol=1e-5)


@pytest.mark.slow
def test_objective_reports_every_epoch_and_can_be_pruned(tmp_path):
    from hpstudy.evaluation import group_kfold

    root = kaggle(tmp_path, leak=False, n_train=3)
    objective = JellyfishObjective(data_dir=str(root), threads=1)
    images = objective.images()
    train = images.indices("train")
    fold = next(iter(group_kfold(images.groups(train), images.labels[train], n_splits=2)))
    params = {"model_name": "SmallCNN", "img_size": 16, "cnn_width": 4, "cnn_depth": 2,
              "epochs": 2, "batch_size": 4, "optimizer": "adam", "learning_rate": 0.01,
              "dropout": 0.2, "augment": "light"}
    ctx = Ctx(fold)
    out = objective(params, ctx)
    assert [step for step, _ in ctx.reports] == [1, 2]
    assert out["val_accuracy"] == pytest.approx(ctx.reports[-1][1])
    assert set(out) == {"val_accuracy", "test_accuracy", "seconds"}
    with pytest.raises(TrialPruned):
        objective(params, Ctx(fold, prune_at=1))
    base = objective({"model_name": "ColourHOG", "img_size": 16, "baseline_C": 1.0}, Ctx(fold))
    assert 0.0 <= base["val_accuracy"] <= 1.0
