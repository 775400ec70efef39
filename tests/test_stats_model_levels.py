"""A model comparison needs >= 2 complete configurations per model value (issue 9, item 4).

Named explicitly (``model="model_name"``), a thin model value is refused with a message
naming it, its count of complete configurations and why the others were left out; with
``model="auto"`` it is dropped from the comparison, with a note and a warning saying so.
Level names are not in alphabetical order, so no code path can rely on sorted labels.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import hpstudy
from hpstudy import ConfigError, TrialState
from hpstudy.cli import main
from hpstudy.evaluation import kfold
from hpstudy.stats import analyze, decompose
from hpstudy.trials import FoldResult, Trial, Trials

N_FOLDS = 3
C, P, F = TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED


def _trial(number: int, model: str, state: TrialState, rng: np.random.Generator,
           folds: int = N_FOLDS) -> Trial:
    base = {"zeta": 0.80, "alpha": 0.70, "mid": 0.75, "slow": 0.85}[model] + rng.normal(0, 0.02)
    results = []
    for f in range(folds):
        fold_state = state if f == folds - 1 else C
        value = {"acc": float(base + 0.01 * f + rng.normal(0, 0.01))}
        results.append(FoldResult(fold=f, seed=f, state=fold_state,
                                  metrics=value if fold_state is C else {}))
    value = float(np.mean([r.metrics["acc"] for r in results])) if state is C else None
    return Trial(number=number, params={"model_name": model, "lr": 0.01 * (number + 1)},
                 state=state, value=value, folds=tuple(results))


def _study(plan: list[tuple[str, TrialState]], seed: int = 0, incomplete: int | None = None
           ) -> Trials:
    rng = np.random.default_rng(seed)
    trials = [_trial(n, m, s, rng, folds=N_FOLDS - 1 if n == incomplete else N_FOLDS)
              for n, (m, s) in enumerate(plan)]
    return Trials(trials, metric="acc")


# zeta 3 complete; alpha: 1 complete, 2 pruned, 1 failed, 1 with a fold missing; mid 3 complete
THIN = [("zeta", C), ("alpha", C), ("mid", C), ("alpha", P), ("zeta", C), ("alpha", F),
        ("mid", C), ("alpha", P), ("zeta", C), ("mid", C), ("alpha", C)]
ALPHA_TEXT = ("model_name='alpha' has 1 complete configuration (4 left out: "
              "2 pruned, 1 failed, 1 incomplete folds)")


def test_a_named_model_factor_with_a_thin_level_is_refused_with_its_count_and_reasons():
    trials = _study(THIN, incomplete=10)
    for call in (decompose, analyze):
        with pytest.raises(ConfigError) as info:
            call(trials, model="model_name")
        text = str(info.value)
        assert ALPHA_TEXT in text
        assert "hpstudy confirm STUDY --per-model model_name" in text
        assert "zeta" not in text and "'mid'" not in text  # only the thin level is named


def test_auto_drops_a_thin_level_says_which_and_why_and_compares_the_others():
    trials = _study(THIN, incomplete=10)
    with pytest.warns(UserWarning) as record:
        dec = decompose(trials)  # model="auto" finds model_name by its name
    message = str(record[0].message)
    assert ALPHA_TEXT in message and "hpstudy confirm STUDY --per-model model_name" in message
    assert "the model share is estimated over 'zeta', 'mid' only" in message
    assert dec.model_kind == "fixed" and list(dec.model_means) == ["zeta", "mid"]
    assert dec.n_configs == 6
    assert any("model levels dropped" in n and ALPHA_TEXT in n for n in dec.notes)
    assert ALPHA_TEXT in dec.summary()
    # oracle: the same decomposition as a study that never had the thin level
    alone = Trials([t for t in trials if t.params["model_name"] != "alpha"], metric="acc")
    ref = decompose(alone, model="model_name")
    for source, (v, lo, hi) in ref.sources.items():
        assert dec.sources[source] == pytest.approx((v, lo, hi), nan_ok=True)
    # analyze: the same decomposition, the same note, one warning only
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = analyze(trials)
    assert [str(w.message) for w in seen if w.category is UserWarning] == [message]
    assert result.decomposition is not None
    for source, values in dec.sources.items():
        assert result.decomposition.sources[source] == pytest.approx(values, nan_ok=True)
    assert any(ALPHA_TEXT in n for n in result.notes)


def test_a_level_without_any_complete_configuration_is_not_dropped_silently():
    # the issue: every trial of the slow architecture pruned; the factor vanished, notes=()
    plan = [("zeta", C), ("slow", P), ("zeta", C), ("slow", P), ("zeta", C), ("slow", F),
            ("zeta", C)]
    trials = _study(plan, seed=3)
    text = "model_name='slow' has 0 complete configurations (3 left out: 2 pruned, 1 failed)"
    with pytest.raises(ConfigError, match=text.replace("(", r"\(").replace(")", r"\)")):
        decompose(trials, model="model_name")
    with pytest.warns(UserWarning, match="the model share cannot be estimated") as record:
        dec = decompose(trials)
    assert text in str(record[0].message)
    assert "tuning and noise are those of model_name='zeta' alone" in str(record[0].message)
    assert dec.model_kind == "absent" and dec.n_configs == 4
    assert any(text in n for n in dec.notes)


def test_every_level_thin_leaves_no_decomposition_and_analyze_says_why():
    plan = [("zeta", C), ("mid", C), ("zeta", P), ("mid", P), ("alpha", F)]
    trials = _study(plan, seed=5)
    with pytest.warns(UserWarning, match="cannot be estimated"):
        result = analyze(trials)
    assert result.decomposition is None
    assert any(n.startswith("decomposition skipped") for n in result.notes)
    assert math.isfinite(result.best[1])  # the rest of the analysis is still there
    with pytest.raises(ConfigError, match="model_name='zeta' has 1 complete configuration"):
        analyze(trials, model="model_name")


def test_balanced_levels_and_model_none_neither_warn_nor_refuse():
    plan = [(m, C) for m in ("zeta", "alpha", "mid") for _ in range(3)]
    trials = _study(plan + [("alpha", P)], seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert decompose(trials, model="model_name").model_kind == "fixed"
        assert decompose(trials).n_configs == 9
        thin = _study(THIN, incomplete=10)
        assert decompose(thin, model=None).model_kind == "absent"  # told: one architecture


def test_a_real_study_and_the_analyze_command(tmp_path, capsys):
    """A study whose 'alpha' architecture always fails: through Study and the CLI."""
    space = hpstudy.SearchSpace({"model_name": hpstudy.Categorical(("zeta", "alpha", "mid")),
                                 "x": hpstudy.Real(0.0, 1.0)})

    def objective(params, ctx):
        if params["model_name"] == "alpha":
            raise RuntimeError("out of memory")
        return 0.5 + 0.1 * params["x"] + 0.01 * ctx.fold_index

    db = tmp_path / "s.db"
    study = hpstudy.Study(space, metric="acc", storage=db, seed=2,
                          folds=kfold(30, 3))
    study.run(objective, n_trials=12, progress=False)
    failed = len(study.trials.with_state(TrialState.FAILED))
    assert failed >= 1
    with pytest.warns(UserWarning, match=f"model_name='alpha' has 0 complete configurations "
                                         rf"\({failed} left out: {failed} failed\)"):
        assert analyze(study.trials).decomposition is not None
    capsys.readouterr()
    # named: the report's decomposition section is the refusal, with the reasons
    assert main(["analyze", str(db), "--model", "model_name", "--format", "json"]) == 0
    section = json.loads(capsys.readouterr().out)["sections"]["decomposition"]
    assert not section["available"]
    assert "model_name='alpha' has 0 complete configurations" in section["reason"]
    assert "hpstudy confirm STUDY --per-model model_name" in section["reason"]
    # auto: the section is there, and its notes say which model value was dropped and why
    assert main(["analyze", str(db), "--format", "json"]) == 0
    section = json.loads(capsys.readouterr().out)["sections"]["decomposition"]
    assert section["available"]
    assert any("model_name='alpha' has 0 complete configurations" in n
               for n in section["notes"])
