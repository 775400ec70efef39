"""A non-deep baseline: colour histograms and HOG, with a scikit-learn classifier.

Features (scikit-image): a joint hue-saturation-value histogram (``8 x 4 x 4`` bins,
normalised to sum 1) and a histogram of oriented gradients of the grey image (9
orientations, 8 x 8-pixel cells, 2 x 2-cell blocks, L2-Hys). At 64 pixels that is 128
+ 1764 numbers an image, computed once per image size (memoised) and shared by every
trial. The classifier (``baseline_clf``) is a logistic regression (``baseline_C``) or an
RBF support-vector machine (``baseline_C``, ``baseline_gamma``), after standardising.
It trains in seconds on the 900 training images: the yardstick a deep model must beat.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hpstudy import ConfigError

__all__ = ["describe", "hog_colour_features", "make_classifier"]

_FEATURES: dict[tuple, np.ndarray] = {}


def describe(image: np.ndarray) -> np.ndarray:
    """The feature vector of one ``uint8`` RGB image: HSV histogram, then HOG."""
    from skimage.color import rgb2gray, rgb2hsv
    from skimage.feature import hog

    hsv = rgb2hsv(image)
    hist, _ = np.histogramdd(hsv.reshape(-1, 3), bins=(8, 4, 4), range=((0, 1),) * 3)
    hist = hist.ravel() / max(hist.sum(), 1.0)
    grads = hog(rgb2gray(image), orientations=9, pixels_per_cell=(8, 8),
                cells_per_block=(2, 2), block_norm="L2-Hys", feature_vector=True)
    return np.concatenate([hist, grads]).astype(np.float32)


def hog_colour_features(pixels: np.ndarray) -> np.ndarray:
    """:func:`describe` of each image of a ``(n, s, s, 3)`` ``uint8`` array (memoised)."""
    key = (pixels.shape, hash(pixels.tobytes()))
    if key not in _FEATURES:
        if len(_FEATURES) > 4:
            _FEATURES.clear()
        _FEATURES[key] = np.stack([describe(img) for img in pixels])
    return _FEATURES[key]


def make_classifier(params: dict, seed: int) -> Any:
    """The scikit-learn pipeline a configuration describes: scaler, then the classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    kind = params.get("baseline_clf", "logreg")
    c = float(params.get("baseline_C", 1.0))
    if not c > 0:
        raise ConfigError(f"baseline_C: must be > 0 (got {c})")
    if kind == "logreg":
        clf = LogisticRegression(C=c, max_iter=2000, random_state=seed)
    elif kind == "svc":
        clf = SVC(C=c, gamma=params.get("baseline_gamma", "scale"), random_state=seed)
    else:
        raise ConfigError(f"baseline_clf: must be 'logreg' or 'svc' (got {kind!r})")
    return make_pipeline(StandardScaler(), clf)
