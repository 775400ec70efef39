"""Tests of hpstudy.evaluation: folds, groups, audits, seeds, fingerprints, validation."""

from __future__ import annotations

import doctest
import json
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, train_test_split

from hpstudy import evaluation as ev
from hpstudy.errors import ConfigError
from hpstudy.evaluation import (
    Fold,
    Folds,
    audit_groups,
    fold_seed,
    from_splits,
    group_kfold,
    groups_from_filenames,
    holdout,
    kfold,
    stratified_kfold,
    with_seed_repeats,
)

ROOT = Path(__file__).resolve().parents[1]
JELLYFISH_TRAIN = Path("/work/shared/data/jellyfish/Train_Test_Valid/Train")
if not JELLYFISH_TRAIN.is_dir():  # a checkout with the data next to it
    JELLYFISH_TRAIN = ROOT / "data" / "jellyfish" / "Train_Test_Valid" / "Train"


def val_counts(folds: Folds) -> np.ndarray:
    """How often each sample is in a validation fold, per CV pass: shape (n_repeats, n)."""
    counts = np.zeros((folds.n_repeats, folds.n_samples), dtype=int)
    for f in folds:
        if f.seed_repeat == 0:
            counts[f.cv_repeat, f.val] += 1
    return counts


def assert_partitions(folds: Folds) -> None:
    assert (val_counts(folds) == 1).all()
    for f in folds:
        assert np.intersect1d(f.train, f.val).size == 0
        assert f.n_train + f.n_val == folds.n_samples


# ---------------------------------------------------------------- partitions and sklearn


@pytest.mark.parametrize("n, k, r", [(10, 2, 1), (23, 5, 3), (100, 10, 2), (7, 7, 1)])
def test_kfold_partitions_every_pass(n, k, r):
    folds = kfold(n, k, n_repeats=r, seed=11)
    assert len(folds) == k * r
    assert_partitions(folds)
    sizes = [f.n_val for f in folds]
    assert max(sizes) - min(sizes) <= 1


def test_kfold_is_sklearns_kfold():
    folds = kfold(37, 4, seed=5)
    expected = list(KFold(4, shuffle=True, random_state=5).split(np.zeros((37, 1))))
    for f, (train, val) in zip(folds, expected, strict=True):
        assert np.array_equal(f.train, np.sort(train)) and np.array_equal(f.val, np.sort(val))


def test_unshuffled_kfold_gives_contiguous_blocks():
    folds = kfold(10, 5, shuffle=False)
    assert [f.val.tolist() for f in folds] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


def test_repeated_kfold_first_pass_equals_single_pass():
    one, three = kfold(50, 5, seed=2), kfold(50, 5, n_repeats=3, seed=2)
    for a, b in zip(one, three[:5], strict=True):
        assert np.array_equal(a.val, b.val) and a.seed == b.seed
    # other passes are other shuffles
    assert not all(np.array_equal(three[i].val, three[i + 5].val) for i in range(5))


def test_stratified_proportions():
    y = np.repeat(["a", "b", "c"], [60, 30, 10])
    folds = stratified_kfold(y, 5, n_repeats=2, seed=3)
    assert_partitions(folds)
    for f in folds:
        _, counts = np.unique(y[f.val], return_counts=True)
        assert counts.tolist() == [12, 6, 2]  # exactly 1/5 of each class
    ref = StratifiedKFold(5, shuffle=True, random_state=3)
    # sklearn's RepeatedStratifiedKFold pass 0 == StratifiedKFold(random_state=seed)
    for f, (_, val) in zip(folds[:5], ref.split(np.zeros((100, 1)), y), strict=True):
        assert np.array_equal(f.val, np.sort(val))


def test_stratified_uneven_classes_within_one():
    rng = np.random.default_rng(0)
    y = rng.choice(4, size=203, p=[0.5, 0.3, 0.15, 0.05])
    folds = stratified_kfold(y, 7, seed=1)
    for f in folds:
        for c in range(4):
            expected = (y == c).sum() / 7
            assert abs((y[f.val] == c).sum() - expected) < 1


def test_holdout_matches_train_test_split():
    folds = holdout(n_samples=50, val_size=0.2, seed=4)
    train, val = train_test_split(np.arange(50), test_size=0.2, random_state=4)
    assert np.array_equal(folds[0].val, np.sort(val))
    assert np.array_equal(folds[0].train, np.sort(train))
    assert folds.describe()["splitter"] == "ShuffleSplit"


def test_repeated_holdout_draws_independent_splits():
    folds = holdout(n_samples=40, val_size=10, seed=1, n_repeats=3)
    ref = list(ShuffleSplit(3, test_size=10, random_state=1).split(np.zeros((40, 1))))
    assert [f.split for f in folds] == [0, 0, 0] and [f.cv_repeat for f in folds] == [0, 1, 2]
    for f, (_, val) in zip(folds, ref, strict=True):
        assert np.array_equal(f.val, np.sort(val)) and f.n_val == 10


def test_stratified_holdout_keeps_proportions():
    y = np.repeat([0, 1], [80, 20])
    f = holdout(y=y, val_size=0.25, seed=0)[0]
    assert f.n_val == 25 and (y[f.val] == 1).sum() == 5


def test_given_holdout():
    folds = holdout([3, 0, 1], [4, 2], n_samples=6)
    f = folds[0]
    assert f.train.tolist() == [0, 1, 3] and f.val.tolist() == [2, 4]
    assert folds.n_samples == 6 and folds.kind == "holdout" and len(folds) == 1
    assert holdout([0, 1], [5]).n_samples == 6


def test_from_splits_of_a_sklearn_splitter():
    pairs = list(KFold(3).split(np.zeros((9, 1))))
    folds = from_splits(pairs, seed=3)
    assert folds.kind == "custom" and folds.n_splits == 3
    assert isinstance(folds, Sequence) and folds.index(folds[2]) == 2 and folds[2] in folds
    assert isinstance(folds[1:], tuple) and len(folds[1:]) == 2
    assert_partitions(folds)


# ---------------------------------------------------------------- groups


def test_group_kfold_keeps_groups_whole_and_stratifies():
    groups = np.repeat(np.arange(60), 3)
    y = groups % 3
    folds = group_kfold(groups, y, 5, n_repeats=2, seed=0)
    assert folds.kind == "stratified_group_kfold"
    assert audit_groups(folds, groups).ok
    assert_partitions(folds)
    for f in folds:
        assert np.bincount(y[f.val], minlength=3).tolist() == [12, 12, 12]


def test_group_kfold_repeats_reshuffle_groups():
    groups = np.repeat(np.arange(40), 2)
    folds = group_kfold(groups, n_splits=4, n_repeats=3, seed=9)
    assert audit_groups(folds, groups).ok
    assert_partitions(folds)
    if folds.describe()["shuffle"]:
        passes = [{tuple(f.val) for f in folds if f.cv_repeat == r} for r in range(3)]
        assert passes[0] != passes[1] and passes[1] != passes[2]


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 25), min_size=6, max_size=120),
    n_splits=st.integers(2, 6),
    seed=st.integers(0, 2**32 - 1),
    stratify=st.booleans(),
)
def test_group_kfold_never_splits_a_group(labels, n_splits, seed, stratify):
    groups = np.asarray(labels)
    n_groups = len(np.unique(groups))
    y = groups % 2 if stratify else None
    if n_groups < n_splits or (
        stratify and (len(np.unique(y)) < 2 or np.bincount(y).min() < n_splits)
    ):
        with pytest.raises(ConfigError):
            group_kfold(groups, y, n_splits, seed=seed)
        return
    folds = group_kfold(groups, y, n_splits, seed=seed)
    audit = audit_groups(folds, groups)
    assert audit.ok and audit.leaks == () and all(p == 0 for p in audit.val_leak_fraction)
    assert_partitions(folds)


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(st.integers(0, 8), min_size=4, max_size=60), seed=st.integers(0, 1000))
def test_audit_finds_exactly_the_straddling_groups(labels, seed):
    groups = np.asarray(labels)
    rng = np.random.default_rng(seed)
    is_val = rng.random(len(groups)) < 0.3
    if is_val.all() or not is_val.any():
        return
    train, val = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    audit = audit_groups([(train, val)], groups)
    expected = sorted(set(groups[train]) & set(groups[val]))
    assert sorted(audit.leaking_groups) == expected
    for leak in audit.leaks:
        assert leak.n_in_train == (groups[train] == leak.group).sum()
        assert leak.n_in_val == (groups[val] == leak.group).sum()
    assert audit.val_leak_fraction[0] == pytest.approx(np.isin(groups[val], expected).mean())


def test_audit_on_user_splits_and_summary():
    groups = ["p1", "p1", "p2", "p2", "p3"]
    audit = audit_groups([([0, 2, 4], [1, 3]), ([0, 1, 2, 3], [4])], groups)
    assert not audit.ok and audit.n_folds == 2 and audit.n_groups == 3
    assert [(lk.group, lk.fold, lk.n_in_train, lk.n_in_val) for lk in audit.leaks] == [
        ("p1", 0, 1, 1),
        ("p2", 0, 1, 1),
    ]
    assert audit.val_leak_fraction == (1.0, 0.0)
    text = audit.summary()
    assert "LEAKS" in text and "'p1' in fold 0" in text and "fold 0: 100.0%" in text
    assert "OK" in audit_groups(group_kfold(groups, n_splits=3), groups).summary()


def test_groups_from_filenames_rules():
    names = ["Moon/01.JPG", "Moon/aug-12-01.jpg", "Moon/AUG-3-aug-1-01.jpeg", "blue/01.png",
             "Moon/10.jpg"]
    assert groups_from_filenames(names).tolist() == [
        "moon/01", "moon/01", "moon/01", "blue/01", "moon/10"]
    assert groups_from_filenames(names, by_folder=False)[3] == "01"
    assert groups_from_filenames(names, case_sensitive=True)[0] == "Moon/01"
    assert groups_from_filenames(names, pattern=None)[1] == "moon/aug-12-01"
    custom = groups_from_filenames(["a/x_rot90.png", "a/x.png"], pattern=r"(?P<source>.+)_rot\d+")
    assert custom[0] == custom[1] == "a/x"


@pytest.mark.skipif(not JELLYFISH_TRAIN.is_dir(), reason="jellyfish data not present")
def test_jellyfish_names_grouped_folds_do_not_leak_naive_ones_do():
    names = sorted(str(p.relative_to(JELLYFISH_TRAIN)) for p in JELLYFISH_TRAIN.glob("*/*"))
    assert len(names) == 900
    groups = groups_from_filenames(names)
    y = np.asarray([n.split("/")[0] for n in names])
    # every augmented copy's source is an original file in the same class folder
    originals = {g for g, n in zip(groups, names, strict=True)
                 if not Path(n).name.lower().startswith("aug-")}
    assert set(groups) == originals
    assert 250 < len(originals) < 450  # most of Train/ is copies
    grouped = group_kfold(groups, y, 5, seed=0)
    assert audit_groups(grouped, groups).ok
    naive = stratified_kfold(y, 5, seed=0)
    audit = audit_groups(naive, groups)
    assert not audit.ok
    assert min(audit.val_leak_fraction) > 0.5  # most validation images have a copy in train
    plain = audit_groups(kfold(len(names), 5, seed=0), groups)
    assert not plain.ok


# ---------------------------------------------------------------- seeds and repeats


def test_determinism_and_seed_sensitivity():
    a, b, c = kfold(30, 3, seed=1), kfold(30, 3, seed=1), kfold(30, 3, seed=2)
    assert a == b and a.fingerprint() == b.fingerprint()
    assert [f.seed for f in a] == [f.seed for f in b]
    assert a != c and a.fingerprint() != c.fingerprint()
    assert any(not np.array_equal(x.val, y.val) for x, y in zip(a, c, strict=True))
    assert len({f.seed for f in a}) == 3


def test_fold_seeds_are_derived_from_the_seed_sequence():
    folds = kfold(12, 3, n_repeats=2, seed=77, n_seeds=2)
    for f in folds:
        assert f.seed == fold_seed(77, f.cv_repeat, f.split, f.seed_repeat)
        state = np.random.SeedSequence(77, spawn_key=(0x1E17, f.cv_repeat, f.split,
                                                      f.seed_repeat)).generate_state(1)
        assert f.seed == int(state[0]) >> 1 and 0 <= f.seed < 2**31
    assert len({f.seed for f in folds}) == len(folds)


def test_seed_repeats_numbering_and_shared_data():
    base = stratified_kfold(np.repeat([0, 1], 10), 2, n_repeats=2, seed=4)
    folds = with_seed_repeats(base, 3)
    assert folds == stratified_kfold(np.repeat([0, 1], 10), 2, n_repeats=2, seed=4, n_seeds=3)
    assert len(folds) == 12 and folds.n_seeds == 3
    for f in folds:
        assert f.index == f.repeat * 2 + f.split
        assert f.repeat == f.cv_repeat * 3 + f.seed_repeat
        twin = next(b for b in base if b.data_key == f.data_key)
        assert np.array_equal(f.val, twin.val) and np.array_equal(f.train, twin.train)
        if f.seed_repeat == 0:
            assert f.seed == twin.seed
    seeds = {}
    for f in folds:
        seeds.setdefault(f.data_key, set()).add(f.seed)
    assert all(len(s) == 3 for s in seeds.values())
    # (repeat, split) names a task uniquely
    assert len({(f.repeat, f.split) for f in folds}) == len(folds)
    with pytest.raises(ConfigError, match="already has n_seeds=3"):
        with_seed_repeats(folds, 2)


def test_describe_is_json_and_records_map_back():
    folds = group_kfold(np.repeat(np.arange(10), 2), np.repeat(np.arange(10) % 2, 2), 2,
                        n_seeds=2, seed=8)
    d = json.loads(json.dumps(folds.describe()))
    assert d["kind"] == "stratified_group_kfold" and d["seed"] == 8 and d["n_seeds"] == 2
    assert d["groups"] is True and d["n_groups"] == 10 and d["n_tasks"] == 4
    rec = json.loads(json.dumps(folds.records()))
    assert [r["index"] for r in rec] == [0, 1, 2, 3]
    assert rec[3] == folds[3].to_record() and rec[3]["seed_repeat"] == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: holdout([0, 1, 2], [3]),
        lambda: holdout(n_samples=30, val_size=0.2, n_repeats=2),
        lambda: holdout(y=np.arange(30) % 3, val_size=6),
        lambda: holdout(groups=np.arange(30) // 3, val_size=0.3),
        lambda: holdout(y=np.arange(30) % 2, groups=np.arange(30) // 3, val_size=0.25),
        lambda: kfold(30, 3, n_repeats=2, n_seeds=2),
        lambda: stratified_kfold(np.arange(30) % 3, 3, shuffle=False),
        lambda: group_kfold(np.arange(30) // 3, n_splits=3, n_repeats=2),
        lambda: from_splits([([0, 1], [2])], n_samples=5),
    ],
)
def test_every_constructor_gives_reproducible_json_described_folds(make):
    a, b = make(), make()
    assert a == b and a.fingerprint() == b.fingerprint()
    d = a.describe()
    assert json.loads(json.dumps(d)) == d
    assert d["n_tasks"] == len(a) == d["n_splits"] * d["n_repeats"] * d["n_seeds"]
    for f in a:
        assert f.index == f.repeat * a.n_splits + f.split
        assert np.intersect1d(f.train, f.val).size == 0 and f.val[-1] < a.n_samples


def test_grouped_holdouts_keep_groups_whole():
    groups = np.arange(60) // 4
    y = (np.arange(60) // 4) % 2
    for folds in (holdout(groups=groups, val_size=0.25, n_repeats=3, seed=2),
                  holdout(y=y, groups=groups, val_size=0.25, n_repeats=3, seed=2)):
        assert audit_groups(folds, groups).ok
        assert all(12 <= f.n_val <= 20 for f in folds)
        assert len({tuple(f.val) for f in folds}) == 3  # three different draws


def test_fingerprint_stability_and_sensitivity():
    folds = kfold(20, 4, seed=0)
    fp = folds.fingerprint()
    assert len(fp) == 64 and fp == kfold(20, 4, seed=0).fingerprint()
    assert fp == pickle.loads(pickle.dumps(folds)).fingerprint()
    # one moved sample, another size, another seed, an unshuffled split: all change it
    moved = [(f.train, f.val) for f in folds]
    t, v = moved[0]
    moved[0] = (np.append(t[1:], v[0]), np.append(v[1:], t[0]))
    same = from_splits([(f.train, f.val) for f in folds], seed=0)
    assert same.fingerprint() == fp  # the kind is not hashed; indices, seeds and sizes are
    others = [from_splits(moved), kfold(21, 4, seed=0), kfold(20, 4, seed=1),
              kfold(20, 4, seed=0, shuffle=False), kfold(20, 4, seed=0, n_seeds=2),
              from_splits([(f.train, f.val) for f in folds], seed=1)]
    fps = [o.fingerprint() for o in others]
    assert fp not in fps and len(set(fps)) == len(fps)


def test_fold_is_frozen_and_compares_contents():
    f = Fold(index=0, split=0, repeat=0, seed=3, train=[2, 0], val=np.array([1]))
    g = Fold(index=0, split=0, repeat=0, seed=3, train=np.array([0, 2]), val=[1])
    assert f == g and hash(f) == hash(g) and f.train.tolist() == [0, 2]
    assert f != Fold(index=0, split=0, repeat=0, seed=3, train=[0, 2], val=[3])
    with pytest.raises(ValueError):
        f.train[0] = 5
    with pytest.raises(AttributeError):
        f.seed = 4  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(f)) == f


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: kfold(10, 1), r"n_splits: must be >= 2 \(got 1\)"),
        (lambda: kfold(3, 4), r"n_splits: must be <= the number of samples 3 \(got 4\)"),
        (lambda: kfold(10, 2.0), r"n_splits: must be an integer"),
        (lambda: kfold(10, True), r"n_splits: must be an integer"),
        (lambda: kfold(10, 2, seed=-1), r"seed: must be >= 0"),
        (lambda: kfold(10, 2, n_repeats=0), r"n_repeats: must be >= 1"),
        (lambda: kfold(10, 2, n_seeds=0), r"n_seeds: must be >= 1"),
        (lambda: kfold(10, 2, shuffle=False, n_repeats=2), r"n_repeats: must be 1 when shuffle"),
        (lambda: kfold(10, 2, shuffle="yes"), r"shuffle: must be True or False"),
        (lambda: stratified_kfold([0] * 5 + [1] * 2, 3), r"n_splits: .*smallest class .*has 2"),
        (lambda: stratified_kfold([0.1, 0.5, 0.7, 0.2], 2), r"y: must be class labels"),
        (lambda: stratified_kfold([[0, 1], [1, 0]], 2), r"y: must be 1-D \(got shape"),
        (lambda: stratified_kfold([1] * 6, 2), r"y: must hold at least 2 classes"),
        (lambda: group_kfold([1, 1, 2, 2], n_splits=3), r"groups: must have at least n_splits=3"),
        (lambda: group_kfold([1, 2, 3], [0, 1], 2), r"groups, y: must have the same length"),
        (lambda: group_kfold([1.0, np.nan, 2.0], n_splits=2), r"groups: must not contain NaN"),
        (lambda: group_kfold("abcd", n_splits=2), r"groups: must be a 1-D array"),
        (lambda: group_kfold(np.array(["a", 1, "b"], dtype=object), n_splits=2),
         r"groups: labels must be mutually comparable"),
        (lambda: holdout([0, 1, 2], [2, 3]), r"train_idx, val_idx: must not overlap \(index 2"),
        (lambda: holdout([0, 1], [5], n_samples=5), r"val_idx: indices must be < n_samples=5"),
        (lambda: holdout([0, -1], [2]), r"train_idx: indices must be >= 0"),
        (lambda: holdout([0, 0, 1], [2]), r"train_idx: index 0 appears more than once"),
        (lambda: holdout([True, False], [2]), r"train_idx: .*not a boolean mask"),
        (lambda: holdout([0.0, 1.0], [2]), r"train_idx: must be integer indices"),
        (lambda: holdout([0, 1], []), r"val_idx: must have at least 1 entries"),
        (lambda: holdout([0, 1]), r"train_idx, val_idx: give both"),
        (lambda: holdout([0], [1], val_size=0.2), r"val_size: cannot be combined"),
        (lambda: holdout(n_samples=10), r"val_size: required"),
        (lambda: holdout(val_size=0.2), r"n_samples: required"),
        (lambda: holdout(n_samples=10, val_size=1.5), r"val_size: a fraction must be in \(0, 1\)"),
        (lambda: holdout(n_samples=10, val_size=10), r"val_size: a count must be between 1 and 9"),
        (lambda: holdout(n_samples=4, y=[0, 1, 0], val_size=0.5), r"n_samples, y: must have"),
        (lambda: holdout(y=[0, 0, 0, 1], val_size=0.5), r"val_size, y: cannot stratify"),
        (lambda: from_splits([]), r"splits: must hold at least one"),
        (lambda: from_splits([([0, 1], [2], [3])]), r"splits\[0\]: must be a \(train, val\) pair"),
        (lambda: audit_groups([([0], [7])], [1, 2, 3]), r"folds\[0\].val: indices must be < "),
        (lambda: audit_groups([], [1, 2]), r"folds: must hold at least one fold"),
        (lambda: groups_from_filenames("a.jpg"), r"names: must be a sequence"),
        (lambda: groups_from_filenames([]), r"names: must hold at least one"),
        (lambda: groups_from_filenames(["a"], pattern=r"aug-(.+)"), r"pattern: must have a named"),
        (lambda: groups_from_filenames(["a"], pattern=r"(?P<source>"), r"pattern: not a valid"),
        (lambda: with_seed_repeats([1, 2], 2), r"folds: must be a Folds"),
    ],
)
def test_bad_input_raises_config_error_naming_the_argument(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError):
        kfold(10, 1)


# ---------------------------------------------------------------- docs and docstrings


@pytest.mark.parametrize("module", ["_folds", "_build", "_split",
                                    "_holdout", "_groups"])
def test_docstring_examples(module):
    import importlib

    mod = importlib.import_module(f"hpstudy.evaluation.{module}")
    result = doctest.testmod(mod, extraglobs=vars(ev), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_docs_page_examples():
    page = ROOT / "docs" / "evaluation.rst"
    result = doctest.testfile(str(page), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 5


def test_public_names():
    assert sorted(ev.__all__) == sorted(
        ["AUGMENTED_COPY_PATTERN", "Fold", "Folds", "GroupAudit", "GroupLeak", "audit_groups",
         "fold_seed", "from_splits", "group_kfold", "groups_from_filenames", "holdout", "kfold",
         "stratified_kfold", "with_seed_repeats",
         # near-duplicate hashing and the image-folder audit (public since the layout move)
         "NearDuplicate", "find_near_duplicates", "hamming_distance", "phash", "phash_many",
         "ImageFolder", "ImageFolderAudit", "audit_image_folder", "scan_image_folder"])
    for name in ev.__all__:
        assert getattr(ev, name).__doc__ or name == "AUGMENTED_COPY_PATTERN"
