"""Regenerate the embedded copy of the jellyfish data set (``examples/jellyfish/data/``).

Every image of the full data set, same folders, same file names, shrunk to fit
``--size`` pixels (aspect kept) and re-encoded: JPEG at ``--quality`` for the JPEG
files, PNG for the PNG files. The file names are kept because they carry the
provenance (``aug-<k>-<source>.jpg``) that the grouped folds rely on.

Run: ``python -m examples.jellyfish.make_embedded --source /path/to/jellyfish``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from examples.jellyfish.data import EMBEDDED_DIR, scan

ATTRIBUTION = """\
# Jellyfish Image Dataset (embedded, downscaled copy)

A downscaled copy ({size} px, JPEG quality {quality}) of the Kaggle "Jellyfish Image
Dataset" (`anshtanwar/jellyfish-types`, https://www.kaggle.com/datasets/anshtanwar/jellyfish-types),
by Ansh Tanwar, Arturo Bandini and Ryan Burnsworth (2024), published under the Creative
Commons Attribution 4.0 International licence (CC BY 4.0,
https://creativecommons.org/licenses/by/4.0/).

Changes made: every image was shrunk to fit {size} x {size} pixels and re-encoded
(`examples/jellyfish/make_embedded.py`); folders and file names are unchanged.
{n} images, {n_train} Train / {n_valid} valid / {n_test} test, 6 classes.

Known properties (see `python -m examples.jellyfish audit`): most Train files are
augmented copies (`aug-<k>-<source>.jpg`) of other Train files, and some valid/test
images are near-duplicates of Train images.
"""


def main(argv: list[str] | None = None) -> int:
    """Write the embedded copy; print its size."""
    from PIL import Image

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="the full data set's folder")
    parser.add_argument("--out", default=str(EMBEDDED_DIR))
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--quality", type=int, default=85)
    args = parser.parse_args(argv)

    images = scan(args.source)
    out = Path(args.out)
    target = out / "Train_Test_Valid"
    if target.exists():
        shutil.rmtree(target)
    folder_of = {"train": "Train", "valid": "valid", "test": "test"}
    for path, split in zip(images.paths, images.splits.tolist(), strict=True):
        rel = Path(os.path.relpath(path, images.root))
        dest = target / folder_of[split] / rel.parent.name / rel.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as img:
            small = img.convert("RGB")
            small.thumbnail((args.size, args.size), Image.Resampling.LANCZOS)
            if rel.suffix.lower() == ".png":
                small.save(dest, format="PNG", optimize=True)
            else:
                small.save(dest, format="JPEG", quality=args.quality, optimize=True)
    counts = {s: int((images.splits == s).sum()) for s in ("train", "valid", "test")}
    (out / "README.md").write_text(ATTRIBUTION.format(
        size=args.size, quality=args.quality, n=len(images), n_train=counts["train"],
        n_valid=counts["valid"], n_test=counts["test"]))
    total = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(f"wrote {len(images)} images to {target} ({total / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
