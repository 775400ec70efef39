"""The Keras callback: reports epochs, stops and re-raises pruned trials."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from hpstudy.errors import ConfigError, TrialPruned


def test_importing_the_integration_does_not_import_tensorflow():
    code = (
        "import sys, hpstudy.integrations, hpstudy.integrations.keras as k\n"
        "assert 'HpstudyCallback' in dir(k)\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ), check=True)
    assert out.stdout.strip() == "[]"


class FakeContext:
    """Records reports; prunes at ``prune_at`` (a step), as TrialContext would."""

    def __init__(self, prune_at=None):
        self.prune_at = prune_at
        self.reports = []

    def report(self, step, value):
        self.reports.append((step, value))
        if step == self.prune_at:
            raise TrialPruned(f"pruned at step {step}")


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


def fit(keras, callback, epochs=4):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x[:32], y[:32], validation_data=(x[32:], y[32:]), epochs=epochs,
                     batch_size=16, verbose=0, callbacks=[callback])


@pytest.mark.keras
def test_reports_every_epoch_when_not_pruned(keras):
    from hpstudy.integrations.keras import HpstudyCallback

    ctx = FakeContext()
    cb = HpstudyCallback(ctx, monitor="val_accuracy")
    assert isinstance(cb, keras.callbacks.Callback)
    history = fit(keras, cb, epochs=3)
    assert [s for s, _ in ctx.reports] == [1, 2, 3]
    np.testing.assert_allclose([v for _, v in ctx.reports], history.history["val_accuracy"])
    assert cb.pruned is None
    cb.raise_if_pruned()  # nothing to raise


@pytest.mark.keras
def test_prune_stops_training_and_fit_raises(keras):
    from hpstudy.integrations.keras import HpstudyCallback

    ctx = FakeContext(prune_at=2)
    cb = HpstudyCallback(ctx, monitor="val_loss")
    with pytest.raises(TrialPruned, match="step 2"):
        fit(keras, cb, epochs=5)
    assert [s for s, _ in ctx.reports] == [1, 2]
    assert cb.model.stop_training is True


@pytest.mark.keras
def test_prune_remembered_without_raise_at_train_end(keras):
    from hpstudy.integrations.keras import HpstudyCallback

    ctx = FakeContext(prune_at=2)
    cb = HpstudyCallback(ctx, raise_at_train_end=False)
    history = fit(keras, cb, epochs=5)
    assert len(history.history["val_accuracy"]) == 2  # stopped after the 2nd epoch
    assert isinstance(cb.pruned, TrialPruned)
    with pytest.raises(TrialPruned):
        cb.raise_if_pruned()


@pytest.mark.keras
def test_missing_monitor_names_the_available_keys(keras):
    from hpstudy.integrations.keras import HpstudyCallback

    cb = HpstudyCallback(FakeContext(), monitor="val_acc")
    with pytest.raises(ConfigError, match=r"monitor: 'val_acc' is not in the epoch logs.*'val_accuracy'"):
        fit(keras, cb, epochs=1)


@pytest.mark.keras
def test_bad_arguments(keras):
    from hpstudy.integrations.keras import HpstudyCallback

    with pytest.raises(ConfigError, match="ctx: must have a report"):
        HpstudyCallback(object())
    with pytest.raises(ConfigError, match="monitor: must be a non-empty string"):
        HpstudyCallback(FakeContext(), monitor="")
