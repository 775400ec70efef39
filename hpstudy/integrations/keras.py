"""Keras integration: report every epoch to the study, stop the trials it prunes.

Importing this module does not import Keras or TensorFlow: the callback class is
built on first access of :class:`HpstudyCallback` (a module ``__getattr__``), so
``import hpstudy`` stays fast.

Examples
--------
.. code-block:: python

    from hpstudy.integrations.keras import HpstudyCallback

    def objective(params, ctx):
        model = build_model(params)
        callback = HpstudyCallback(ctx, monitor="val_accuracy")
        history = model.fit(x, y, validation_data=(xv, yv), epochs=25,
                            callbacks=[callback])
        # a pruned trial never gets here: fit raised TrialPruned at the end of training
        return history.history["val_accuracy"][-1]
"""

from __future__ import annotations

from typing import Any

from hpstudy.errors import ConfigError, TrialPruned, did_you_mean

__all__ = ["HpstudyCallback"]  # noqa: F822 (built lazily by __getattr__)

_CALLBACK_CLASS: type | None = None


def _import_keras() -> Any:
    try:
        import keras
    except ImportError:  # pragma: no cover - Keras 2 ships inside TensorFlow only
        try:
            from tensorflow import keras
        except ImportError as exc:
            raise ImportError(
                "hpstudy.integrations.keras needs Keras: pip install 'hpstudy[example]' "
                "(tensorflow-cpu) or keras"
            ) from exc
    return keras


_DOC = """A Keras callback that reports each epoch's metric to the study.

    At the end of every epoch it calls ``ctx.report(epoch + 1, logs[monitor])``
    (the step is the number of epochs completed, Keras' ``epoch`` argument being
    0-based and absolute, so a second ``fit(initial_epoch=...)`` continues the
    count). When the study's stopper prunes the trial, ``ctx.report`` raises
    :class:`~hpstudy.TrialPruned`; the callback catches it, sets
    ``model.stop_training = True`` so that Keras ends training cleanly after
    this epoch, and re-raises it from ``on_train_end`` (or, with
    ``raise_at_train_end=False``, from :meth:`raise_if_pruned`), so the
    objective ends and the study records the trial PRUNED.

    Parameters
    ----------
    ctx : TrialContext
        The objective's context (anything with ``report(step, value)``).
    monitor : str, default "val_accuracy"
        The key of Keras' epoch logs to report; it must be the study's metric.
    raise_at_train_end : bool, default True
        Raise the prune from ``on_train_end``, so ``model.fit`` itself raises
        :class:`~hpstudy.TrialPruned`. With False, ``fit`` returns normally and the
        objective must call :meth:`raise_if_pruned` (or check :attr:`pruned`).

    Attributes
    ----------
    pruned : TrialPruned or None
        The prune caught during training, if any.

    Raises
    ------
    ConfigError
        When ``ctx`` has no ``report`` method, or ``monitor`` is not a non-empty
        string; during training, when the epoch logs have no ``monitor`` key (the
        message lists the keys there are).
    """


def _build_class() -> type:
    keras = _import_keras()

    class HpstudyCallback(keras.callbacks.Callback):  # type: ignore[name-defined]
        __doc__ = _DOC

        def __init__(self, ctx: Any, monitor: str = "val_accuracy", *,
                     raise_at_train_end: bool = True) -> None:
            super().__init__()
            if not callable(getattr(ctx, "report", None)):
                raise ConfigError(
                    f"ctx: must have a report(step, value) method, such as the TrialContext "
                    f"the objective receives (got {type(ctx).__name__})"
                )
            if not isinstance(monitor, str) or not monitor:
                raise ConfigError(f"monitor: must be a non-empty string (got {monitor!r})")
            if not isinstance(raise_at_train_end, bool):
                raise ConfigError(
                    f"raise_at_train_end: must be true or false (got {raise_at_train_end!r})"
                )
            self.ctx = ctx
            self.monitor = monitor
            self.raise_at_train_end = raise_at_train_end
            self.pruned: TrialPruned | None = None

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            """Report the epoch's monitored value; stop training when pruned."""
            if self.pruned is not None:  # fit called again after a prune
                self.model.stop_training = True
                return
            logs = logs or {}
            if self.monitor not in logs:
                raise ConfigError(
                    f"monitor: {self.monitor!r} is not in the epoch logs; available keys: "
                    f"{sorted(logs)}" + did_you_mean(self.monitor, logs)
                    + " (val_* keys need validation_data or validation_split)"
                )
            try:
                self.ctx.report(int(epoch) + 1, float(logs[self.monitor]))
            except TrialPruned as exc:
                self.pruned = exc
                self.model.stop_training = True

        def on_train_end(self, logs: dict | None = None) -> None:
            """Raise the prune, if any, when ``raise_at_train_end`` is set."""
            if self.raise_at_train_end:
                self.raise_if_pruned()

        def raise_if_pruned(self) -> None:
            """Raise the :class:`~hpstudy.TrialPruned` caught during training, if any.

            Raises
            ------
            TrialPruned
                When the study's stopper pruned the trial.
            """
            if self.pruned is not None:
                raise self.pruned

    HpstudyCallback.__module__ = __name__
    HpstudyCallback.__qualname__ = "HpstudyCallback"
    return HpstudyCallback


def __getattr__(name: str) -> Any:
    global _CALLBACK_CLASS
    if name == "HpstudyCallback":
        if _CALLBACK_CLASS is None:
            _CALLBACK_CLASS = _build_class()
        return _CALLBACK_CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "HpstudyCallback"])
