"""Argument checks shared by every package: one rule, one message style."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["is_finite_number"]


def is_finite_number(value: Any) -> bool:
    """True for a real, finite int or float (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and np.issubdtype(type(value), np.number):
                return bool(np.isfinite(value)) and not np.iscomplexobj(value)
        except ImportError:  # pragma: no cover
            pass
        return False
    return math.isfinite(value)
