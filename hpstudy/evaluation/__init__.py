"""Honest evaluation: the folds every trial of a study is scored on.

A study evaluates each trial on the same :class:`Folds` (one task per :class:`Fold`),
so differences between trials are paired: the same samples, the same seeds. The
constructors wrap scikit-learn's splitters:

* :func:`holdout` -- one validation set, given or drawn (``ShuffleSplit`` and kin);
* :func:`kfold` -- ``KFold`` / ``RepeatedKFold``;
* :func:`stratified_kfold` -- ``StratifiedKFold`` / ``RepeatedStratifiedKFold``;
* :func:`group_kfold` -- ``GroupKFold`` / ``StratifiedGroupKFold``, repeated by reshuffling;
* :func:`from_splits` -- your own ``(train, val)`` pairs;
* :func:`with_seed_repeats` -- each split several times with other initialisation seeds.

:func:`audit_groups` checks that no group (a photo and its augmented copies) straddles
a fold boundary, and :func:`groups_from_filenames` builds the groups from names such as
the jellyfish data set's ``aug-<k>-<source>.jpg``. :func:`audit_image_folder`
(module :mod:`hpstudy.evaluation.images`) audits a whole image-folder data set: augmented
copies by name, near-duplicates by perceptual hash, within and across splits.

How tasks are numbered
----------------------
Each fold carries ``split`` (which split of a cross-validation pass), ``cv_repeat``
(which pass, i.e. which shuffle), ``seed_repeat`` (which initialisation seed on the same
data), ``repeat = cv_repeat * n_seeds + seed_repeat`` and
``index = repeat * n_splits + split``. The study records ``index`` and ``repeat``;
``Folds.records()`` maps them back to the other fields.
"""

from __future__ import annotations

from hpstudy.evaluation._build import with_seed_repeats
from hpstudy.evaluation._folds import Fold, Folds, fold_seed
from hpstudy.evaluation._groups import (
    AUGMENTED_COPY_PATTERN,
    GroupAudit,
    GroupLeak,
    audit_groups,
    groups_from_filenames,
)
from hpstudy.evaluation._holdout import from_splits, holdout
from hpstudy.evaluation._split import group_kfold, kfold, stratified_kfold
from hpstudy.evaluation.images import (
    ImageFolder,
    ImageFolderAudit,
    audit_image_folder,
    scan_image_folder,
)
from hpstudy.evaluation.near_duplicates import (
    NearDuplicate,
    find_near_duplicates,
    hamming_distance,
    phash,
    phash_many,
)

__all__ = [
    "AUGMENTED_COPY_PATTERN",
    "Fold",
    "Folds",
    "GroupAudit",
    "GroupLeak",
    "ImageFolder",
    "ImageFolderAudit",
    "NearDuplicate",
    "audit_groups",
    "audit_image_folder",
    "find_near_duplicates",
    "fold_seed",
    "from_splits",
    "group_kfold",
    "groups_from_filenames",
    "hamming_distance",
    "holdout",
    "kfold",
    "phash",
    "phash_many",
    "scan_image_folder",
    "stratified_kfold",
    "with_seed_repeats",
]
