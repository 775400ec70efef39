"""The seed's augmentations, as Keras 3 preprocessing layers applied on the fly.

The seed team augmented offline (500 images a class written to disk). Here every
training batch is augmented anew, inside the training fold only: validation and
test images are never augmented, and no augmented copy of a validation image can
reach training. Pixels are ``float32`` in [0, 255] in and out (clipped).

Policies (the sweep's ``augment``):

* ``none`` -- no augmentation;
* ``light`` -- horizontal and vertical flips, rotation (up to 36 degrees), random
  shift, scale and rotate (translation 10 %, zoom 10 %), brightness and contrast;
* ``full`` -- every augmentation the seed lists: ``light``, plus colour jitter
  (saturation, hue), Gaussian noise, Gaussian blur, perspective, grid distortion,
  elastic deformation and CLAHE, the last five each on a random half of the images.

Keras has a layer for each of them except grid distortion, written here
(:class:`RandomGridDistortion`, after albumentations' ``GridDistortion``).
"""

from __future__ import annotations

from typing import Any

from hpstudy import ConfigError

__all__ = ["POLICIES", "make_augmenter"]

POLICIES = ("none", "light", "full")


def _layers() -> dict[str, type]:
    import keras

    class RandomApply(keras.layers.Layer):
        """Apply ``layer`` to a random ``rate`` of the images of a batch."""

        def __init__(self, layer: Any, rate: float = 0.5, seed: int | None = None,
                     **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.layer, self.rate = layer, rate
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, images: Any, training: bool = True) -> Any:
            if not training:
                return images
            ops = keras.ops
            pick = keras.random.uniform((ops.shape(images)[0], 1, 1, 1),
                                        seed=self.seed_generator) < self.rate
            return ops.where(pick, self.layer(images, training=True), images)

    class RandomGridDistortion(keras.layers.Layer):
        """Stretch and squeeze the image along a coarse grid (albumentations' GridDistortion).

        The image is cut into ``steps`` bands along each axis; each band is rescaled by
        a factor drawn from ``[1 - limit, 1 + limit]`` and the bands are renormalised
        to the image's size, giving a monotone piecewise-linear warp of each axis.
        """

        def __init__(self, steps: int = 5, limit: float = 0.3, seed: int | None = None,
                     **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.steps, self.limit = steps, limit
            self.seed_generator = keras.random.SeedGenerator(seed)

        def _axis_map(self, batch: Any, size: Any) -> Any:
            ops = keras.ops
            scales = keras.random.uniform((batch, self.steps), 1 - self.limit, 1 + self.limit,
                                          seed=self.seed_generator)
            knots = ops.concatenate([ops.zeros((batch, 1)), ops.cumsum(scales, axis=1)], axis=1)
            knots = knots / knots[:, -1:] * ops.cast(size - 1, "float32")
            pos = ops.linspace(0.0, ops.cast(self.steps, "float32"), size)  # in band units
            band = ops.clip(ops.cast(ops.floor(pos), "int32"), 0, self.steps - 1)
            frac = pos - ops.cast(band, "float32")
            lo = ops.take_along_axis(knots, ops.broadcast_to(band[None], (batch, size)), axis=1)
            hi = ops.take_along_axis(knots, ops.broadcast_to(band[None] + 1, (batch, size)),
                                     axis=1)
            return lo + (hi - lo) * frac[None]

        def _weights(self, batch: Any, size: Any) -> Any:
            """Linear-interpolation matrices (batch, size, size): row i samples at map[i]."""
            ops = keras.ops
            where = self._axis_map(batch, size)[:, :, None]
            grid = ops.cast(ops.arange(size), "float32")[None, None, :]
            return ops.maximum(0.0, 1.0 - ops.abs(where - grid))

        def call(self, images: Any, training: bool = True) -> Any:
            if not training:
                return images
            ops = keras.ops
            b, h, w = ops.shape(images)[0], ops.shape(images)[1], ops.shape(images)[2]
            # the warp is separable: out = Wy @ image @ Wx^T, channel by channel
            return ops.einsum("bij,bjkc,blk->bilc", self._weights(b, h), images,
                              self._weights(b, w))

    return {"RandomApply": RandomApply, "RandomGridDistortion": RandomGridDistortion}


def make_augmenter(policy: str, seed: int = 0) -> Any:
    """The augmentation of a policy as one Keras layer (a ``keras.Sequential``), or None.

    Parameters
    ----------
    policy : {"none", "light", "full"}
    seed : int
        Seeds every random layer (one stream per layer).

    Returns
    -------
    keras.Sequential or None
        Call it as ``aug(images, training=True)`` on ``float32`` batches in [0, 255].
    """
    if policy in (None, False, "none"):
        return None
    if policy not in POLICIES:
        raise ConfigError(f"augment: must be one of {list(POLICIES)} (got {policy!r})")
    import keras

    L = keras.layers
    extra = _layers()
    apply, grid = extra["RandomApply"], extra["RandomGridDistortion"]
    steps = [
        L.RandomFlip("horizontal_and_vertical", seed=seed),
        L.RandomRotation(0.1, seed=seed + 1),  # 0.1 of a full turn: 36 degrees
        L.RandomTranslation(0.1, 0.1, seed=seed + 2),  # shift
        L.RandomZoom(0.1, seed=seed + 3),  # scale
        L.RandomBrightness(0.2, seed=seed + 4),
        L.RandomContrast(0.2, seed=seed + 5),
    ]
    if policy == "full":
        steps += [
            L.RandomColorJitter(saturation_factor=(0.3, 0.7), hue_factor=0.05, seed=seed + 6),
            L.Rescaling(1 / 255.0),  # GaussianNoise wants stddev <= 1: noise on [0, 1]
            L.GaussianNoise(0.02, seed=seed + 7),
            L.Rescaling(255.0),
            apply(L.RandomGaussianBlur(factor=1.0, kernel_size=3, sigma=1.0, seed=seed + 8),
                  0.5, seed=seed + 9),
            apply(L.RandomPerspective(factor=1.0, scale=0.2, seed=seed + 10), 0.5, seed=seed + 11),
            apply(grid(steps=5, limit=0.3, seed=seed + 12), 0.5, seed=seed + 13),
            apply(L.RandomElasticTransform(factor=1.0, scale=0.5, seed=seed + 14), 0.5,
                  seed=seed + 15),
            apply(L.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=2.0,
                                                                 tile_grid_size=(4, 4)),
                  0.5, seed=seed + 16),
        ]
    steps.append(L.Lambda(lambda x: keras.ops.clip(x, 0.0, 255.0)))
    return keras.Sequential(steps, name=f"augment_{policy}")
