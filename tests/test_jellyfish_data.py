"""The jellyfish example's data loader and leakage audit (no TensorFlow needed)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from hpstudy import ConfigError

PIL = pytest.importorskip("PIL.Image")

from examples.jellyfish import data  # noqa: E402
from examples.jellyfish.audit import audit_data  # noqa: E402

CLASSES = ("Moon_jellyfish", "blue_jellyfish")


def photo(seed: int, size: int = 40) -> np.ndarray:
    """A smooth random image: distinct seeds give perceptually distinct images."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (5, 5, 3), dtype=np.uint8)
    return np.asarray(PIL.fromarray(coarse).resize((size, size), PIL.Resampling.BICUBIC))


def save(path, array, fmt="JPEG"):
    """Write an image, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.fromarray(array).save(path, format=fmt)


def kaggle(tmp_path, leak=True, n_train=2):
    """Train: ``n_train`` originals + 1 augmented copy a class; valid/test: 1 a class.

    With ``leak``, valid/blue_jellyfish/10.png is a re-encoded copy of
    Train/Moon_jellyfish/01.jpg.
    """
    root = tmp_path / "Train_Test_Valid"
    seed = 0
    for c in CLASSES:
        for k in range(n_train):
            seed += 1
            save(root / "Train" / c / (f"{k + 1:02d}.jpg" if k != 1 else "02.JPG"), photo(seed))
        save(root / "Train" / c / "aug-3-01.jpg", np.flip(photo(seed - n_train + 1), axis=1))
        for split in ("valid", "test"):
            seed += 1
            save(root / split / c / "10.png", photo(seed), fmt="PNG")
    if leak:
        save(root / "valid" / CLASSES[1] / "10.png", photo(1), fmt="PNG")
    return tmp_path


_kaggle = kaggle
_photo = photo
_save = save


def test_scan_reads_the_kaggle_layout_with_mixed_extensions(tmp_path):
    images = data.scan(_kaggle(tmp_path))
    assert images.class_names == CLASSES
    assert images.split_names == ("train", "valid", "test")
    assert len(images) == 2 * 3 + 2 + 2
    assert images.labels[images.indices("train")].tolist() == [0, 0, 0, 1, 1, 1]
    assert images.relative([0])[0] == os.path.join("Train", "Moon_jellyfish", "01.jpg")


def test_provenance_groups_put_a_copy_with_its_source(tmp_path):
    images = data.scan(_kaggle(tmp_path))
    train = images.indices("train")
    groups = images.groups(train)
    names = images.relative(train)
    by_name = dict(zip(names, groups, strict=True))
    moon = os.path.join("Train", "Moon_jellyfish")
    assert by_name[os.path.join(moon, "aug-3-01.jpg")] == by_name[os.path.join(moon, "01.jpg")]
    assert by_name[os.path.join(moon, "02.JPG")] != by_name[os.path.join(moon, "01.jpg")]
    assert len(set(groups.tolist())) == 4


def test_a_flat_class_folder_is_one_split(tmp_path):
    for i, c in enumerate(CLASSES):
        _save(tmp_path / c / "a.jpeg", _photo(i))
    images = data.scan(tmp_path)
    assert images.split_names == ("all",) and len(images) == 2


@pytest.mark.parametrize("case", ["missing", "no_classes", "missing_class", "unreadable", "empty"])
def test_scan_errors_name_the_problem(tmp_path, case):
    root = _kaggle(tmp_path, leak=False)
    tv = root / "Train_Test_Valid"
    if case == "missing":
        target, match = tmp_path / "nope", "is not a folder"
    elif case == "no_classes":
        target, match = tmp_path / "empty_dir", "no class folders"
        target.mkdir()
    elif case == "missing_class":
        for f in (tv / "test" / CLASSES[1]).iterdir():
            f.unlink()
        (tv / "test" / CLASSES[1]).rmdir()
        target, match = root, "split 'test' .* has no folder for class 'blue_jellyfish'"
    elif case == "unreadable":
        (tv / "valid" / CLASSES[0] / "bad.jpg").write_text("not an image")
        target, match = root, "bad.jpg is not a readable image"
    else:
        for f in (tv / "valid" / CLASSES[0]).iterdir():
            f.unlink()
        target, match = root, "holds no image"
    with pytest.raises(ConfigError, match=match):
        data.scan(target)


def test_load_arrays_resizes_to_uint8_squares(tmp_path):
    images = data.scan(_kaggle(tmp_path))
    x = data.load_arrays(images, 16)
    assert x.shape == (len(images), 16, 16, 3) and x.dtype == np.uint8
    assert data.load_arrays(images, 16) is x  # memoised
    with pytest.raises(ConfigError, match="img_size"):
        data.load_arrays(images, 3)


def test_audit_finds_the_planted_cross_split_leak(tmp_path):
    audit = audit_data(_kaggle(tmp_path))
    images = audit.images
    dup = audit.duplicated("valid")
    assert images.relative(dup) == [os.path.join("valid", "blue_jellyfish", "10.png")]
    assert len(audit.duplicated("test")) == 0
    # the copy joins the group of the Train photo it duplicates, and nothing else does
    leaked = dup[0]
    source = images.indices("train")[0]
    assert audit.groups[leaked] == audit.groups[source]
    assert len(set(audit.groups.tolist())) == len(set(audit.provenance.tolist())) - 1
    assert set(audit.clean("valid").tolist()) == set(images.indices("valid").tolist()) - {leaked}
    assert "valid/blue_jellyfish/10.png duplicates Train/Moon_jellyfish/01.jpg" in audit.table()


def test_embedded_copy_is_the_full_data_set_and_small():
    images = data.scan()
    counts = {s: len(images.indices(s)) for s in images.split_names}
    assert counts == {"train": 900, "valid": 39, "test": 40}
    assert len(images.class_names) == 6
    size = sum(os.path.getsize(p) for p in images.paths)
    assert size < 8 * 2**20
    readme = (data.EMBEDDED_DIR / "README.md").read_text()
    assert "CC BY 4.0" in readme and "Ansh Tanwar" in readme


def test_embedded_audit_reproduces_the_known_leaks():
    audit = audit_data()
    assert len(audit.duplicated("valid")) == 3 and len(audit.duplicated("test")) == 3
    train = audit.images.indices("train")
    assert len(np.unique(audit.provenance[train])) == 319  # 900 files, 581 aug copies
    assert audit.naive_kfold_leak() > 0.5
