"""Test of the DVC `scorer` stage end to end on a tiny configuration: model folder, metrics file, MLflow run."""

from __future__ import annotations

import json

import pytest
import yaml

from models.scorer import ScorerEnsemble
from training.train_scorer import expected_calibration_error, main


def test_expected_calibration_error() -> None:
    import numpy as np

    p = np.array([0.1, 0.1, 0.9, 0.9])
    assert expected_calibration_error(p, np.array([0, 0, 1, 1])) == pytest.approx(0.1)
    assert expected_calibration_error(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.0)


@pytest.mark.slow
def test_stage_writes_model_metrics_and_mlflow(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root is relative to the working directory
    params = {"scorer": {
        "data": {"n_users": 900, "seed": 3, "fraud_rate": 0.3, "train_fraction": 0.6, "calibration_fraction": 0.2},
        "model": {"hgb_max_iter": 40, "mlp_hidden": [8], "mlp_epochs": 2, "stack_folds": 2},
        "mlflow": {"tracking_uri": "sqlite:///unused.db", "experiment": "veid-scorer-test", "register": True},
    }}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    out, metrics_path = tmp_path / "scorer", tmp_path / "metrics" / "scorer.json"
    main(["--params", str(tmp_path / "params.yaml"), "--out", str(out), "--metrics", str(metrics_path)])
    metrics = json.loads(metrics_path.read_text())
    assert {"roc_auc", "ece", "recall_at_70"} <= set(metrics["scorer"]) and "roc_auc" in metrics["baseline"]
    assert metrics["scorer"]["roc_auc"] > metrics["baseline"]["roc_auc"]
    model = ScorerEnsemble.load(out)
    assert model.version.sha256 == metrics["model"]["sha256"]

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    versions = client.search_model_versions("name='veid-scorer'")
    assert len(versions) == 1 and versions[0].tags["sha256"] == model.version.sha256
    assert client.get_registered_model("veid-scorer").aliases["active"] == versions[0].version
    arts = {a.path for a in client.list_artifacts(versions[0].run_id, "plots")}
    assert arts == {"plots/reliability.png", "plots/roc.png"}
