"""The GP encoder's memo tells True from 1 (issue 8 #12a)."""

from __future__ import annotations

import numpy as np

from hpstudy.optimizers.gp._encoding import Encoder
from hpstudy.space import Categorical, Integer, SearchSpace


def test_true_and_1_are_different_categories_in_either_order():
    space = SearchSpace({"c": Categorical([1, True, "x"])})
    for first, second in ((True, 1), (1, True)):
        enc = Encoder(space)
        a, b = enc.encode_one({"c": first}), enc.encode_one({"c": second})
        assert a.tolist() != b.tolist()
        assert type(enc.decode(a[None])[0]["c"]) is type(first)
    enc = Encoder(space)
    enc.encode_one({"c": True})
    assert type(enc.decode(enc.encode_one({"c": 1})[None])[0]["c"]) is int
    assert enc.encode_one({"c": np.True_}).tolist() == enc.encode_one({"c": True}).tolist()


def test_memo_gives_what_encode_gives():
    space = SearchSpace({"c": Categorical([0, False, 1, True]), "n": Integer(0, 3)})
    enc = Encoder(space)
    rows = [{"c": v, "n": n} for v in (True, 1, False, 0) for n in (0, 1)]
    for p in rows + rows:  # the second pass reads the memo
        assert enc.encode_one(p).tolist() == enc.encode([p])[0].tolist()
