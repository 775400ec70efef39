"""The image-folder leakage audit of hpstudy.evaluation (``hpstudy audit``), on tiny PNGs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hpstudy import ConfigError
from hpstudy.cli import main as cli_main
from hpstudy.evaluation import audit_image_folder, group_kfold, scan_image_folder

PIL = pytest.importorskip("PIL.Image")


def photo(seed: int, size: int = 32) -> np.ndarray:
    """A smooth random image: distinct seeds give perceptually distinct images."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return np.asarray(PIL.fromarray(coarse).resize((size, size), PIL.Resampling.BICUBIC))


def save(path, array, fmt="PNG"):
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.fromarray(array).save(path, format=fmt)


def split_layout(root):
    """train: 2 photos a class + an augmented copy; valid: 1 a class, one of them a
    JPEG re-encoding (at another size) of train/cat/02.png."""
    save(root / "train" / "cat" / "01.png", photo(1))
    save(root / "train" / "cat" / "02.png", photo(2))
    save(root / "train" / "cat" / "aug-4-01.png", np.flip(photo(1), axis=1))
    save(root / "train" / "dog" / "01.png", photo(3))
    save(root / "train" / "dog" / "02.png", photo(4))
    save(root / "valid" / "cat" / "07.png", photo(5))
    big = np.asarray(PIL.fromarray(photo(2)).resize((48, 48), PIL.Resampling.BILINEAR))
    save(root / "valid" / "dog" / "08.jpg", big, fmt="JPEG")
    return root


def test_split_layout_groups_copies_and_cross_split_duplicates(tmp_path):
    audit = audit_image_folder(split_layout(tmp_path))
    im = audit.images
    names = im.relative()
    assert im.split_names == ("train", "valid") and im.class_names == ("cat", "dog")
    pos = {n.replace(os.sep, "/"): i for i, n in enumerate(names)}
    copy, source = pos["train/cat/aug-4-01.png"], pos["train/cat/01.png"]
    leaked, origin = pos["valid/dog/08.jpg"], pos["train/cat/02.png"]
    # provenance: the flipped copy is grouped by its name, not by its (changed) hash
    assert audit.provenance[copy] == audit.provenance[source]
    # hashing: the re-encoded copy in another split and class joins its source's group
    assert audit.groups[leaked] == audit.groups[origin]
    assert [(i, j) for i, j, _ in audit.pairs] == [(origin, leaked)]
    assert audit.duplicated("valid").tolist() == [leaked]
    assert audit.clean("valid").tolist() == [pos["valid/cat/07.png"]]
    assert len(set(audit.groups.tolist())) == len(im) - 2
    info = audit.to_dict()
    assert info["splits"][0] == {"split": "train", "files": 5, "photos": 4, "aug_copies": 1,
                                 "dup_pairs": 0, "dup_of_reference": None}
    assert info["splits"][1]["dup_of_reference"] == 1
    assert info["duplicates_of_reference"][0]["file"] == os.path.join("valid", "dog", "08.jpg")
    table = audit.table()
    assert os.path.join("valid", "dog", "08.jpg") + " duplicates " in table
    assert table.splitlines()[2].split() == ["train", "5", "4", "1", "0", "-"]
    # the groups keep the photo and its copy in one fold
    train = im.indices("train")
    for fold in group_kfold(audit.groups[train], im.labels[train], n_splits=2, seed=0):
        moved = {int(train[i]) for i in fold.val}
        assert (copy in moved) == (source in moved)


def test_the_threshold_decides_and_bad_thresholds_are_refused(tmp_path):
    root = split_layout(tmp_path)
    loose = audit_image_folder(root, max_distance=64)
    distances = sorted(d for _, _, d in loose.pairs)
    # the resized, re-encoded copy is a few bits away; unrelated photos far more than 8
    assert 0 < distances[0] <= 8 < distances[1]
    assert audit_image_folder(root, max_distance=distances[0] - 1).duplicated("valid").size == 0
    assert audit_image_folder(root, max_distance=distances[0]).duplicated("valid").size == 1
    with pytest.raises(ConfigError, match="max_distance"):
        audit_image_folder(root, max_distance=65)


def test_flat_layout_is_one_split_with_duplicates_inside(tmp_path):
    save(tmp_path / "a" / "x.png", photo(1))
    save(tmp_path / "a" / "y.png", photo(2))
    save(tmp_path / "b" / "z.jpg", photo(1), fmt="JPEG")  # the same photo, other class
    save(tmp_path / "b" / "w.png", photo(3))
    audit = audit_image_folder(tmp_path)
    assert audit.images.split_names == ("all",) and audit.reference == "all"
    assert audit.to_dict()["splits"] == [{"split": "all", "files": 4, "photos": 3,
                                          "aug_copies": 0, "dup_pairs": 1,
                                          "dup_of_reference": None}]


def test_scan_is_lenient_unless_strict(tmp_path):
    save(tmp_path / "train" / "a" / "1.png", photo(1))
    save(tmp_path / "train" / "b" / "1.png", photo(2))
    save(tmp_path / "test" / "a" / "1.png", photo(3))
    (tmp_path / "test" / "notes.txt").write_text("not an image")
    listing = scan_image_folder(tmp_path)
    assert len(listing) == 3 and listing.split_names == ("train", "test")
    with pytest.raises(ConfigError, match="split 'test' .* has no folder for class 'b'"):
        scan_image_folder(tmp_path, strict=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no class folders with images"):
        scan_image_folder(tmp_path / "empty")
    with pytest.raises(ConfigError, match="is not a folder"):
        scan_image_folder(tmp_path / "missing")


def test_cli_audit_text_json_and_errors(tmp_path, capsys):
    root = split_layout(tmp_path / "data")
    assert cli_main(["audit", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:2] == ["split", "files"]
    assert cli_main(["audit", str(root), "--format", "json", "--max-distance", "10"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["max_distance"] == 10 and info["images"] == 7
    assert cli_main(["audit", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a folder" in err[0] and err[0].startswith("hpstudy audit")


def test_missing_pillow_names_the_install_command(tmp_path, monkeypatch, capsys):
    root = split_layout(tmp_path)
    for name in [m for m in sys.modules if m == "PIL" or m.startswith("PIL.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `from PIL import Image` fail
    with pytest.raises(ImportError, match="pip install pillow"):
        audit_image_folder(root)
    assert cli_main(["audit", str(root)]) == 1
    assert "pip install pillow" in capsys.readouterr().err


def test_import_hpstudy_does_not_import_pillow():
    code = "import sys, hpstudy, hpstudy.evaluation; sys.exit('PIL' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
