"""retrain-best and predict: a study's best model back, exported, and read from each format."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from hpstudy import ConfigError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytestmark = pytest.mark.keras

import hpstudy  # noqa: E402
from examples.jellyfish.__main__ import main  # noqa: E402
from examples.jellyfish.export import predict, retrain_best  # noqa: E402
from examples.jellyfish.objective import JellyfishObjective  # noqa: E402
from tests.test_jellyfish_data import kaggle  # noqa: E402


def tiny_study(tmp_path, params: dict) -> tuple[str, str]:
    """A one-trial study (Train -> valid) of ``params`` on the tiny Kaggle-layout set."""
    data_dir = str(kaggle(tmp_path / "data"))
    sweep = {"method": "grid", "metric": {"name": "val_accuracy", "goal": "maximize"},
             "parameters": {k: {"values": [v]} for k, v in params.items()}}
    db = str(tmp_path / "study.db")
    study = hpstudy.Study.from_sweep(sweep, storage=db)
    study.run(JellyfishObjective(data_dir=data_dir), n_trials=1, n_jobs=1)
    return db, data_dir


@pytest.mark.slow
def test_keras_model_round_trip_keras_and_tflite_agree(tmp_path, capsys):
    params = {"model_name": "SmallCNN", "img_size": 16, "cnn_width": 4, "cnn_depth": 1,
              "epochs": 2, "batch_size": 4, "learning_rate": 0.01, "optimizer": "adam",
              "dropout": 0.2}
    db, data_dir = tiny_study(tmp_path, params)
    out = tmp_path / "model"
    assert main(["retrain-best", db, "--out", str(out), "--data-dir", data_dir]) == 0
    printed = capsys.readouterr().out
    assert "valid_clean" in printed and "95% Wilson" in printed
    info = json.loads((out / "model.json").read_text())
    assert sorted(os.listdir(out)) == ["labels.txt", "model.json", "model.keras", "model.tflite"]
    assert (out / "labels.txt").read_text().split() == ["Moon_jellyfish", "blue_jellyfish"]
    scores = {s["name"]: s for s in info["scores"]}
    # the planted leak: one valid image copies a Train image, so valid_clean has one fewer
    assert scores["valid"]["n"] == 2 and scores["valid_clean"]["n"] == 1
    assert scores["test"]["n"] == 2 and scores["test_clean"]["n"] == 2
    for s in scores.values():
        assert s["low"] <= s["accuracy"] <= s["high"]
    images = sorted(str(p) for p in (tmp_path / "data").rglob("*.png"))
    probs = predict(out, images)
    assert set(probs) == {"keras", "tflite"}
    assert probs["keras"].shape == (len(images), 2)
    np.testing.assert_allclose(probs["keras"].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probs["tflite"], probs["keras"], atol=1e-4)
    assert main(["predict", "--model", str(out), images[0]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{images[0]}:"
    assert lines[1].split()[0] == "keras" and lines[2].split()[0] == "tflite"
    assert lines[-1].startswith("largest |keras - tflite| probability difference")


def test_colour_hog_model_is_saved_with_joblib_and_predicts(tmp_path):
    params = {"model_name": "ColourHOG", "img_size": 16, "baseline_clf": "logreg",
              "baseline_C": 1.0}
    db, data_dir = tiny_study(tmp_path, params)
    out = tmp_path / "model"
    info = retrain_best(db, out, data_dir=data_dir)
    assert info["params"]["model_name"] == "ColourHOG" and "model.joblib" in info["files"]
    assert not (out / "model.tflite").exists()
    images = sorted(str(p) for p in (tmp_path / "data").rglob("*.jpg"))[:3]
    probs = predict(out, images)
    assert set(probs) == {"joblib"} and probs["joblib"].shape == (3, 2)
    np.testing.assert_allclose(probs["joblib"].sum(axis=1), 1.0, atol=1e-9)


def test_predict_refuses_a_folder_without_a_model(tmp_path, capsys):
    with pytest.raises(ConfigError, match="retrain-best"):
        predict(tmp_path, ["x.jpg"])
    assert main(["predict", "--model", str(tmp_path), "x.jpg"]) == 2
    assert "retrain-best" in capsys.readouterr().err


def test_retrain_best_needs_a_completed_trial(tmp_path):
    db = str(tmp_path / "empty.db")
    hpstudy.Study.from_sweep({"method": "random", "parameters": {"a": {"values": [1]}}},
                             storage=db)
    with pytest.raises(ConfigError, match="no completed trial"):
        retrain_best(db, tmp_path / "out", data_dir=str(kaggle(tmp_path / "data")))
