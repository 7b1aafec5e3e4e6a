"""`veid models-export`: a registered MLflow model lands in the BentoML store unchanged and is checked on use."""

from __future__ import annotations

import json

import pytest

from veid.errors import ModelError


@pytest.mark.slow
def test_export_round_trip_and_tamper(tmp_path, monkeypatch):
    import mlflow
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "bentoml"))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    art = tmp_path / "scorer"
    art.mkdir()
    (art / "scorer.json").write_text(json.dumps({"format": "veid-scorer"}))
    (art / "scorer_arrays.npz").write_bytes(b"\x00" * 64)
    monkeypatch.chdir(tmp_path)  # the default artifact root (./mlruns) lands in the temporary folder
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("export-test")
    try:
        with mlflow.start_run() as run:
            mlflow.log_artifacts(str(art), artifact_path="scorer")
    finally:
        mlflow.set_tracking_uri(previous)
    client = MlflowClient(uri)
    client.create_registered_model("veid-scorer")
    source = client.get_run(run.info.run_id).info.artifact_uri + "/scorer"
    mv = client.create_model_version("veid-scorer", source, run_id=run.info.run_id)
    client.set_registered_model_alias("veid-scorer", "active", mv.version)

    from serving.models_export import export_models, exported_path, files_digest

    exported = export_models(uri, ("veid-scorer", "not-registered"))
    assert [e.mlflow_name for e in exported] == ["veid-scorer"] and exported[0].mlflow_version == str(mv.version)
    path = exported_path(exported[0].tag)
    assert sorted(p.name for p in path.iterdir() if p.name != "model.yaml") == ["scorer.json", "scorer_arrays.npz"]
    assert files_digest(path) == files_digest(art) == exported[0].files_sha256
    (path / "scorer_arrays.npz").write_bytes(b"\x01" * 64)
    with pytest.raises(ModelError, match="differs"):
        exported_path(exported[0].tag)
    with pytest.raises(ModelError, match="no BentoML model"):
        exported_path("veid-nothing:latest")
