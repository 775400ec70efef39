"""Trial records are frozen all the way down: their mappings are read-only."""

from __future__ import annotations

import copy
import json
import pickle

import attrs
import pytest

import hpstudy
from hpstudy.trials import FoldResult, Trial, Trials, TrialState


def _trial() -> Trial:
    fold = FoldResult(fold=0, seed=3, state=TrialState.COMPLETE, metrics={"acc": 0.5})
    return Trial(number=0, params={"lr": 0.1, "opt": "adam"}, state=TrialState.COMPLETE,
                 value=0.5, metrics={"acc": 0.5}, folds=(fold,))


def test_mappings_are_read_only():
    t = _trial()
    with pytest.raises(TypeError):
        t.params["lr"] = 1.0
    with pytest.raises(TypeError):
        t.metrics["acc"] = 1.0
    with pytest.raises(TypeError):
        t.folds[0].metrics["acc"] = 1.0
    for mutate in (lambda d: d.update({"lr": 1.0}), lambda d: d.pop("lr"), lambda d: d.clear(),
                   lambda d: d.setdefault("new", 1), lambda d: d.popitem(),
                   lambda d: d.__delitem__("lr"), lambda d: d.__ior__({"lr": 2.0})):
        with pytest.raises(TypeError, match="read-only"):
            mutate(t.params)
    assert dict(t.params) == {"lr": 0.1, "opt": "adam"}  # unchanged


def test_records_mappings_work_with_json_and_other_libraries():
    import json

    t = _trial()
    assert json.loads(json.dumps(t.params)) == dict(t.params)
    assert copy.deepcopy(t.params) == t.params and isinstance(copy.deepcopy(t.params), dict)


def test_the_callers_dict_is_copied():
    params = {"lr": 0.1}
    t = Trial(number=0, params=params)
    params["lr"] = 9.0
    assert t.params["lr"] == 0.1


def test_pickle_copy_equality_dict_and_json_still_work():
    t = _trial()
    for other in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t), copy.copy(t)):
        assert other == t
        with pytest.raises(TypeError):
            other.params["lr"] = 1.0
        with pytest.raises(TypeError):
            other.folds[0].metrics["acc"] = 1.0
    assert t.params == {"lr": 0.1, "opt": "adam"}
    assert dict(t.params) == {"lr": 0.1, "opt": "adam"}
    assert json.loads(json.dumps(dict(t.params))) == dict(t.params)
    assert attrs.asdict(t)["params"] == {"lr": 0.1, "opt": "adam"}
    assert attrs.evolve(t, value=0.7).params == t.params
    assert "params={'lr': 0.1, 'opt': 'adam'}" in repr(t)
    frame = Trials([t]).to_frame(folds=True)
    assert frame.loc[0, "params.lr"] == 0.1 and frame.loc[0, "metrics.acc"] == 0.5


def test_a_user_cannot_corrupt_the_studys_replay():
    space = hpstudy.SearchSpace({"x": hpstudy.Real(0.0, 1.0)})
    study = hpstudy.Study(space, seed=0)
    trials = study.run(lambda p, ctx: p["x"], n_trials=3)
    x0 = trials[0].params["x"]
    with pytest.raises(TypeError):
        trials[0].params["x"] = 5.0
    with pytest.raises(TypeError):
        study.trials[0].metrics["value"] = 5.0
    assert study.trials[0].params["x"] == x0
    assert study.best_trial.value == max(t.value for t in study.trials)
