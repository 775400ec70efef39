"""Tests of hpstudy.evaluation.near_duplicates: perceptual hashes and near-duplicate search."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from scipy.fft import dctn

from hpstudy.errors import ConfigError
from hpstudy.evaluation import near_duplicates as _phash
from hpstudy.evaluation.near_duplicates import (
    NearDuplicate,
    find_near_duplicates,
    hamming_distance,
    phash,
    phash_many,
    resize_area,
)

JELLYFISH = Path("/work/shared/data/jellyfish/Train_Test_Valid")
if not JELLYFISH.is_dir():
    JELLYFISH = Path(__file__).resolve().parents[1] / "data" / "jellyfish" / "Train_Test_Valid"


def photo(seed: int, n: int = 224) -> np.ndarray:
    """A smooth random RGB 'photo' (uint8), different for every seed."""
    rng = np.random.default_rng(seed)
    base = ndimage.gaussian_filter(rng.normal(size=(n, n, 3)), sigma=(12, 12, 0))
    base = (base - base.min()) / (base.max() - base.min()) * 255
    return base.astype(np.uint8)


def reencoded(img: np.ndarray, seed: int = 1) -> np.ndarray:
    """What a lossy re-encode does: a little blur, noise, rounding back to uint8."""
    rng = np.random.default_rng(seed)
    out = ndimage.gaussian_filter(img.astype(float), (0.8, 0.8, 0)) + rng.normal(0, 4, img.shape)
    return np.clip(out, 0, 255).round().astype(np.uint8)


def cropped(img: np.ndarray, frac: float) -> np.ndarray:
    """Crop ``frac`` of each border and scale back to the original size."""
    n = img.shape[0]
    c = int(round(n * frac))
    inner = img[c : n - c, c : n - c].astype(float)
    return np.stack([resize_area(inner[..., k], n, n) for k in range(3)], axis=-1)


SEEDS = range(10)


@pytest.fixture(scope="module")
def hashes() -> list[int]:
    return [phash(photo(s)) for s in SEEDS]


def test_hash_is_64_bits_with_half_set(hashes):
    for h in hashes:
        assert 0 <= h < 2**64
        # 63 AC coefficients vs their median: 31 above, plus the (positive) DC term
        assert bin(h).count("1") == 32


def test_hash_matches_a_direct_computation():
    img = np.random.default_rng(3).random((96, 64))
    # 96 x 64 -> 32 x 32 is an exact 3 x 2 block mean
    thumb = img.reshape(32, 3, 32, 2).mean(axis=(1, 3))
    low = dctn(thumb, norm="ortho")[:8, :8].ravel()
    bits = "".join("1" if v > np.median(low[1:]) else "0" for v in low)
    assert phash(img) == int(bits, 2)


def test_reencoded_copy_is_near(hashes):
    for s, h in zip(SEEDS, hashes, strict=True):
        assert hamming_distance(h, phash(reencoded(photo(s)))) <= 4


def test_slightly_cropped_copy_is_near(hashes):
    for s, h in zip(SEEDS, hashes, strict=True):
        assert hamming_distance(h, phash(cropped(photo(s), 0.02))) <= 8


def test_brightness_contrast_and_scale_do_not_change_the_hash(hashes):
    img = photo(0)
    assert phash(img.astype(float) * 0.7 + 30) == hashes[0]
    assert phash(img / 255.0) == hashes[0]
    grey = img.astype(float) @ np.array([0.299, 0.587, 0.114])
    assert phash(grey) == hashes[0] == phash(np.dstack([img, np.full(img.shape[:2], 9)]))


def test_resizing_first_barely_changes_the_hash(hashes):
    img = photo(4)
    small = np.stack([resize_area(img[..., k].astype(float), 150, 150) for k in range(3)], -1)
    assert hamming_distance(hashes[4], phash(small)) <= 4


def test_different_images_are_far(hashes):
    d = [hamming_distance(a, b) for i, a in enumerate(hashes) for b in hashes[:i]]
    assert min(d) >= 16
    assert 26 <= np.mean(d) <= 38  # about half of the 64 bits
    assert hamming_distance(hashes[0], phash(photo(0)[:, ::-1])) >= 16  # a mirror image


def test_find_near_duplicates_pairs_copies_with_their_originals(hashes):
    train = phash_many([photo(s) for s in SEEDS])
    val = phash_many([reencoded(photo(3)), photo(100), cropped(photo(7), 0.02), photo(101)])
    found = find_near_duplicates(val, train, max_distance=8)
    assert {(d.i, d.j) for d in found} == {(0, 3), (2, 7)}
    assert all(d.distance <= 8 for d in found)
    assert [d.distance for d in found] == sorted(d.distance for d in found)
    # within one set: pairs i < j only; chunking changes nothing
    both = np.concatenate([train, val])
    inside = find_near_duplicates(both, max_distance=8)
    assert {(d.i, d.j) for d in inside} == {(3, 10), (7, 12)}
    assert find_near_duplicates(both, max_distance=8, chunk=3) == inside


def test_hamming_and_near_duplicates_on_known_bits():
    assert hamming_distance(0, 2**64 - 1) == 64
    assert hamming_distance([1, 2**63], [3, 0]).tolist() == [1, 1]
    assert find_near_duplicates([5], [5, 4, 2**64 - 1], max_distance=1) == (
        NearDuplicate(i=0, j=0, distance=0),
        NearDuplicate(i=0, j=1, distance=1),
    )
    assert find_near_duplicates([], [1, 2]) == ()


def test_resize_area_preserves_means_and_enlarges():
    img = np.random.default_rng(0).random((37, 53))
    small = resize_area(img, 7, 11)
    assert small.shape == (7, 11) and small.mean() == pytest.approx(img.mean())
    big = resize_area(np.array([[1.0, 3.0]]), 2, 4)
    assert big.tolist() == [[1.0, 1.0, 3.0, 3.0]] * 2


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: phash(np.zeros((4, 4, 2))), r"image: must have shape"),
        (lambda: phash(np.zeros((0, 4))), r"image: must not be empty"),
        (lambda: phash(np.full((4, 4), np.nan)), r"image: must hold finite values"),
        (lambda: phash(np.array([["a"]])), r"image: must hold numbers"),
        (lambda: find_near_duplicates([1], [2], max_distance=65), r"max_distance: must be"),
        (lambda: find_near_duplicates([-1], [2]), r"hashes_a\[0\]: must be an integer"),
        (lambda: find_near_duplicates([1], [2**64]), r"hashes_b\[0\]: must be an integer"),
        (lambda: find_near_duplicates("ab"), r"hashes_a: must be a 1-D sequence"),
        (lambda: find_near_duplicates([[1, 2]]), r"hashes_a: must be 1-D"),
        (lambda: hamming_distance([1, 2], [1]), r"a, b: must have the same length"),
        (lambda: resize_area(np.zeros((3, 3)), 0, 2), r"height: must be >= 1"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_docstring_examples():
    result = doctest.testmod(_phash)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.skipif(not JELLYFISH.is_dir(), reason="jellyfish data not present")
def test_jellyfish_validation_images_that_are_training_images():
    pil = pytest.importorskip("PIL.Image")

    def load(split: str) -> tuple[list[Path], np.ndarray]:
        paths = sorted((JELLYFISH / split).glob("*/*"))
        return paths, phash_many([np.asarray(pil.open(p).convert("RGB")) for p in paths])

    train, h_train = load("Train")
    val, h_val = load("valid")
    assert len(train) == 900 and len(val) == 39
    found = find_near_duplicates(h_val, h_train, max_distance=8)
    assert len({d.i for d in found}) >= 3  # the README's near-duplicates across splits
    def grey(path: Path) -> np.ndarray:
        return np.asarray(pil.open(path).convert("L").resize((64, 64)), dtype=float)

    best: dict[int, float] = {}
    for d in found:
        assert val[d.i].parent.name == train[d.j].parent.name  # same species
        assert val[d.i].read_bytes() != train[d.j].read_bytes()  # byte hashes miss them
        mae = np.abs(grey(val[d.i]) - grey(train[d.j])).mean()
        best[d.i] = min(best.get(d.i, np.inf), mae)
    # each flagged validation image is, pixel for pixel, one of the training images
    # (its other matches are augmented copies of that image: recoloured, flipped...)
    assert all(mae < 3 for mae in best.values())
