"""Register the trained document models in the MLflow model registry (sha256, git commit, dvc.lock hash).

Each model file in ``models/weights`` becomes a new version of its registered model
(``veid-craft``, ``veid-field-unet``, ``veid-diacritic-marks``, ``veid-field-captions``, ``veid-low-marks``)
unless a version with the same sha256 already exists;
the alias ``active`` points at the version whose sha256 matches the shipped weights.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

from models.registry import ACTIVE_ALIAS, MODEL_NAMES, WEIGHTS_DIR, read_record, verify
from training.mlflow_utils import DocTrainConfig, artifact_location, dvc_lock_hash, git_commit, tracking_uri
from veid.config import load_section
from veid.logs import get_logger, setup_logging

log = get_logger(__name__)


def register_models(weights_dir: Path, common: DocTrainConfig, metrics: Path | None = None) -> dict[str, str]:
    """Register (or find) a version per model and mark it active; returns ``{name: version}``."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    uri = tracking_uri(common)
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    if mlflow.get_experiment_by_name(common.experiment) is None:
        mlflow.create_experiment(common.experiment, artifact_location=artifact_location(uri))
    summary = json.loads(metrics.read_text(encoding="utf-8")) if metrics and metrics.is_file() else {}
    out = {}
    lock = dvc_lock_hash()
    commit = git_commit()
    for key, name in MODEL_NAMES.items():
        version = verify(key, weights_dir)
        record = read_record(key, weights_dir)
        try:
            client.get_registered_model(name)
        except MlflowException:
            client.create_registered_model(name, description=f"VEID document model '{key}' (models/{key}.py)")
        existing = [mv for mv in client.search_model_versions(f"name='{name}'") if (mv.tags or {}).get("sha256") == version.sha256]
        if existing:
            mv = existing[0]
        else:
            run_id = record.get("mlflow_run_id") or None
            try:
                source = f"{client.get_run(run_id).info.artifact_uri}/model" if run_id else Path(version.extra["file"]).resolve().as_uri()
            except MlflowException:  # the training run lives in another store
                run_id, source = None, Path(version.extra["file"]).resolve().as_uri()
            tags = {"sha256": version.sha256, "git_commit": commit, "trained_at_commit": record.get("git_commit", ""),
                    "dvc_lock_sha256": lock, "file": record["file"]}
            tags.update({f"metric.{k}": str(v) for k, v in _metrics_for(key, summary).items()})
            mv = client.create_model_version(name, source, run_id=run_id, tags=tags)
        client.set_registered_model_alias(name, ACTIVE_ALIAS, mv.version)
        out[name] = str(mv.version)
        log.info("registered %s version %s (sha256 %s...)", name, mv.version, version.sha256[:12])
    return out


def _metrics_for(key: str, summary: dict) -> dict[str, float]:
    if key == "craft":
        return {f"craft.{k}": v for k, v in summary.get("craft", {}).items()}
    if key in ("marks", "captions", "low_marks"):  # their own stages' metrics (data/metrics/<key>.json)
        path = Path(f"data/metrics/{key}.json")
        scores = json.loads(path.read_text(encoding="utf-8")).get(key, {}) if path.is_file() else {}
        return {f"{key}.{k}": v for k, v in scores.items() if v is not None}
    return {f"unet.iou.{k}": v for k, v in summary.get("unet", {}).get("iou", {}).items()}


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: registers ``models/weights`` and writes ``models/weights/registered.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--weights", default=str(WEIGHTS_DIR))
    parser.add_argument("--metrics", default="data/metrics/docmodels.json")
    parser.add_argument("--out", default=None, help="summary JSON (default: <weights>/registered.json)")
    args = parser.parse_args(argv)
    setup_logging()
    common = load_section(args.params, "doc_train", DocTrainConfig)
    weights = Path(args.weights)
    versions = register_models(weights, common, Path(args.metrics))
    out = Path(args.out) if args.out else weights / "registered.json"
    tmp = out.with_name(f".{out.name}.tmp")
    shas = {MODEL_NAMES[k]: read_record(k, weights)["sha256"] for k in MODEL_NAMES}
    tmp.write_text(json.dumps({n: {"version": v, "sha256": shas[n]} for n, v in versions.items()}, indent=2) + "\n")
    os.replace(tmp, out)
    print(json.dumps(versions))


if __name__ == "__main__":
    main()
