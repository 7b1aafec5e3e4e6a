"""End to end on the CI parameter set: generate -> prepare -> train CRAFT -> train UNET -> evaluate -> register."""

from __future__ import annotations

import json
import shutil

import pytest


@pytest.mark.slow
def test_document_model_pipeline_on_ci_params(repo_root, tmp_path, monkeypatch):
    from training import evaluate_docmodels, prepare, register, train_craft, train_unet

    params = str(repo_root / "data" / "params_ci.yaml")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    synth, prepared, weights = tmp_path / "synth", tmp_path / "prepared", tmp_path / "weights"
    from training.synth import generate

    generate(synth, n=24, seed=5, progress=False)
    prepare.main(["targets", "--params", params, "--synth", str(synth), "--out", str(prepared)])
    counts = json.loads((prepared / "train_index.json").read_text())["docs"]
    assert counts, "no training documents"
    train_craft.main(["--params", params, "--prepared", str(prepared), "--out", str(weights / "craft.keras")])
    # each model's second phase alone, from its trained network (how shipped weights are fine-tuned)
    train_craft.main(["--params", params, "--prepared", str(prepared), "--init", str(weights / "craft.keras"),
                      "--out", str(tmp_path / "craft_ft.keras")])
    craft_record = json.loads((tmp_path / "craft.json").read_text())
    assert craft_record["finetuned_from"] == json.loads((weights / "craft.json").read_text())["sha256"]
    train_unet.main(["--params", params, "--prepared", str(prepared), "--craft", str(weights / "craft.keras"),
                     "--out", str(weights / "unet.keras")])
    train_unet.main(["--params", params, "--prepared", str(prepared), "--craft", str(weights / "craft.keras"),
                     "--init", str(weights / "unet.keras"), "--out", str(tmp_path / "unet_ft.keras")])
    unet_record = json.loads((tmp_path / "unet.json").read_text())
    assert unet_record["file"] == "unet_ft.keras"
    assert unet_record["finetuned_from"] == json.loads((weights / "unet.json").read_text())["sha256"]
    metrics = tmp_path / "metrics.json"
    evaluate_docmodels.main(["--params", params, "--prepared", str(prepared), "--weights", str(weights),
                             "--metrics", str(metrics)])
    m = json.loads(metrics.read_text())
    for key in ("precision", "recall", "hmean"):
        assert 0.0 <= m["craft"][key] <= 100.0
    assert set(m["unet"]["iou"]) == {"id_number", "first_name", "last_name", "date_of_birth"}
    assert set(m["unet"]["capture_iou"]) == set(m["unet"]["iou"])  # the capture views were prepared and scored
    assert 0.0 <= m["craft"]["captures"]["hmean"] <= 100.0
    assert 0.0 <= m["rapidocr"]["hmean"] <= 100.0
    # the mark, low-mark and caption classifiers have their own stages: the shipped ones are registered
    for name in ("marks.npz", "marks.json", "captions.npz", "captions.json", "low_marks.npz", "low_marks.json"):
        shutil.copy(repo_root / "models" / "weights" / name, weights / name)
    register.main(["--params", params, "--weights", str(weights), "--metrics", str(metrics)])
    assert set(json.loads((weights / "registered.json").read_text())) == {
        "veid-craft", "veid-field-unet", "veid-diacritic-marks", "veid-field-captions", "veid-low-marks"}
