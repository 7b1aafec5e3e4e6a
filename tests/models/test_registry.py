"""Tests for shipped-weight records: sha256 verification, offline loading, MLflow registration and listing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from models.craft import TINY_CRAFT, build_craft
from models.registry import list_registered, load_document_models, verify, write_record
from models.unet import TINY_UNET, build_unet
from veid.errors import ModelError


@pytest.fixture()
def weights(tmp_path, tiny_mark_model, tiny_caption_model, tiny_low_mark_model):
    d = tmp_path / "weights"
    d.mkdir()
    build_craft(TINY_CRAFT).save(d / "craft.keras")
    build_unet(TINY_UNET).save(d / "unet.keras")
    write_record(d / "craft.keras", "craft", {"long_side": 64})
    write_record(d / "unet.keras", "unet", {"use_image": True})
    tiny_mark_model.save(d / "marks.npz")
    write_record(d / "marks.npz", "marks", {"hidden": 8})
    tiny_caption_model.save(d / "captions.npz")
    write_record(d / "captions.npz", "captions", {"hidden": 8})
    tiny_low_mark_model.save(d / "low_marks.npz")
    write_record(d / "low_marks.npz", "low_marks", {"hidden": 8})
    return d



def test_load_document_models_verifies_and_runs(weights):
    models = load_document_models(weights)
    assert models.craft.version.name == "veid-craft" and len(models.craft.version.sha256) == 64
    assert models.craft.long_side == 64
    image = np.full((40, 64, 3), 128, np.uint8)
    maps = models.craft.predict(image)
    assert maps.region.shape == (20, 32)
    assert models.unet.predict(maps, image).shape == (20, 32, 5)


def test_one_flipped_byte_is_refused(weights):
    path = weights / "unet.keras"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        verify("unet", weights)
    with pytest.raises(ModelError):
        load_document_models(weights)


def test_missing_record_or_file_is_a_model_error(weights):
    (weights / "craft.json").unlink()
    with pytest.raises(ModelError, match="record"):
        verify("craft", weights)
    (weights / "unet.keras").unlink()
    with pytest.raises(ModelError, match="missing"):
        verify("unet", weights)


def test_cli_verify_reports_each_model(weights):
    from models.cli import models

    result = CliRunner().invoke(models, ["verify", "--weights", str(weights)])
    assert result.exit_code == 0, result.output
    assert "veid-craft" in result.output and "veid-field-unet" in result.output
    assert "veid-diacritic-marks" in result.output and "veid-field-captions" in result.output
    assert "veid-low-marks" in result.output


@pytest.mark.slow
def test_register_then_list_marks_the_shipped_version_active(weights, tmp_path, monkeypatch):
    from models.cli import models
    from training.mlflow_utils import DocTrainConfig
    from training.register import register_models

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    versions = register_models(weights, DocTrainConfig(tracking_uri=uri, experiment="t"))
    assert versions == {"veid-craft": "1", "veid-field-unet": "1", "veid-diacritic-marks": "1",
                        "veid-field-captions": "1", "veid-low-marks": "1"}
    assert register_models(weights, DocTrainConfig(tracking_uri=uri, experiment="t")) == versions  # same hash: no new version
    rows = list_registered(uri, weights)
    assert [(r.name, r.version, r.active, r.shipped) for r in rows] == [
        ("veid-craft", "1", True, True), ("veid-diacritic-marks", "1", True, True),
        ("veid-field-captions", "1", True, True), ("veid-field-unet", "1", True, True),
        ("veid-low-marks", "1", True, True)]
    out = CliRunner().invoke(models, ["list", "--json", "--weights", str(weights)])
    assert out.exit_code == 0, out.output
    listed = json.loads(out.output)
    assert {r["sha256"] for r in listed} == {json.loads((weights / f"{k}.json").read_text())["sha256"]
                                             for k in ("craft", "unet", "marks", "captions", "low_marks")}


def test_list_shows_the_registered_scorer_and_whether_it_is_shipped(tmp_path, repo_root):
    import mlflow
    from mlflow.tracking import MlflowClient

    from models.scorer import MODEL_NAME, ScorerEnsemble

    weights = repo_root / "models" / "weights"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    shipped = ScorerEnsemble.load(weights / "scorer").version.sha256
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("t")
    client = MlflowClient(tracking_uri=uri)
    client.create_registered_model(MODEL_NAME)
    for sha in ("0" * 64, shipped):  # an older version, then the shipped one made active
        with mlflow.start_run() as run:
            pass
        mv = client.create_model_version(MODEL_NAME, run.info.artifact_uri, run.info.run_id, tags={"sha256": sha})
    client.set_registered_model_alias(MODEL_NAME, "active", mv.version)
    rows = [(r.version, r.active, r.shipped) for r in list_registered(uri, weights) if r.name == MODEL_NAME]
    assert rows == [("1", False, False), ("2", True, True)]
