"""A grid of augmented samples, for the docs: ``python -m examples.jellyfish.augment_grid``.

One row per species (the first Train image of each class of the embedded copy): the
original, then ``--light`` draws of the ``light`` policy and ``--full`` of the ``full``
policy (:mod:`examples.jellyfish.augment`), each a fresh draw as in training. Written as
a 128-colour PNG (default ``examples/jellyfish/augment_grid.png``, 80 px tiles).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def grid(size: int = 80, n_light: int = 3, n_full: int = 4, seed: int = 0) -> np.ndarray:
    """The grid as ``uint8`` RGB: rows = species, columns = original, light, full draws."""
    import tensorflow as tf

    from examples.jellyfish.augment import make_augmenter
    from examples.jellyfish.data import load_arrays, scan

    images = scan()
    train = images.indices("train")
    first = [int(train[images.labels[train] == k][0]) for k in range(len(images.class_names))]
    x = tf.constant(load_arrays(images, size)[first].astype("float32"))
    columns = [x.numpy()]
    for policy, n in (("light", n_light), ("full", n_full)):
        aug = make_augmenter(policy, seed=seed)
        columns += [np.asarray(aug(x, training=True)) for _ in range(n)]
    pad = 2
    rows, cols = len(first), len(columns)
    out = np.full((rows * (size + pad) + pad, cols * (size + pad) + pad, 3), 255, np.uint8)
    for c, batch in enumerate(columns):
        for r in range(rows):
            y0, x0 = pad + r * (size + pad), pad + c * (size + pad)
            out[y0:y0 + size, x0:x0 + size] = np.clip(batch[r], 0, 255).astype(np.uint8)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the grid."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(HERE / "augment_grid.png"))
    p.add_argument("--size", type=int, default=80)
    p.add_argument("--light", type=int, default=3)
    p.add_argument("--full", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from PIL import Image

    picture = Image.fromarray(grid(args.size, args.light, args.full, args.seed))
    # a 128-colour palette keeps the file small (the docs show it at this size)
    picture.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
