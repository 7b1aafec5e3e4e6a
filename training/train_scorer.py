"""DVC stage ``scorer``: generate synthetic users, train the calibrated ensemble, write metrics, log to MLflow.

``python -m training.train_scorer --out models/weights/scorer --metrics data/metrics/scorer.json``

Users come from :func:`training.synth_scopes.scope_histories`; identities are split once
into train / calibration / test. Metrics (held-out test users): ``scorer.roc_auc``,
``scorer.ece`` (10 equal-width bins), ``scorer.recall_at_70`` (share of genuine users scoring
70 or more), ``scorer.false_accept_at_70`` and ``baseline.roc_auc`` (the reference design's
fixed-weight average of verified scopes on the same users).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from models.scorer import MODEL_NAME, ScorerEnsemble
from pipelines.scoring.evidence import parse_evidence
from pipelines.scoring.features import DIRECTIONS, FEATURE_NAMES, FEATURE_SCHEMA_VERSION, baseline_score, build_features
from pipelines.scoring.scorer import ScoringConfig, to_score
from training.scorer_fit import EnsembleConfig, fit_ensemble
from training.synth_scopes import scope_histories
from veid.config import load_section, to_mapping
from veid.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class ScorerDataConfig:
    """Synthetic users for the scorer (``scorer.data``): count, seed, fraud share, split fractions."""

    n_users: int = 20000
    seed: int = 2024
    fraud_rate: float = 0.3
    train_fraction: float = 0.6
    calibration_fraction: float = 0.2


@dataclass(frozen=True)
class ScorerMlflowConfig:
    """Tracking (``scorer.mlflow``); ``MLFLOW_TRACKING_URI`` overrides ``tracking_uri``."""

    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "veid-scorer"
    register: bool = True


@dataclass(frozen=True)
class ScorerParams:
    """The whole ``scorer`` section of ``params.yaml``."""

    data: ScorerDataConfig = field(default_factory=ScorerDataConfig)
    model: EnsembleConfig = field(default_factory=EnsembleConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    mlflow: ScorerMlflowConfig = field(default_factory=ScorerMlflowConfig)


@dataclass(frozen=True)
class Dataset:
    """Feature matrix, labels and reference-design scores of one split."""

    x: np.ndarray
    y: np.ndarray
    baseline: np.ndarray


def make_splits(cfg: ScorerDataConfig) -> dict[str, Dataset]:
    """Generate users and split them by identity into ``train``, ``cal`` and ``test``."""
    order = np.random.default_rng(cfg.seed).permutation(cfg.n_users)
    n_tr = int(cfg.n_users * cfg.train_fraction)
    n_cal = int(cfg.n_users * cfg.calibration_fraction)
    split = np.empty(cfg.n_users, dtype=object)
    split[order[:n_tr]], split[order[n_tr:n_tr + n_cal]], split[order[n_tr + n_cal:]] = "train", "cal", "test"
    ids = [f"scorer-{i:06d}" for i in range(cfg.n_users)]
    records = scope_histories(ids, [str(s) for s in split], cfg.seed, fraud_rate=cfg.fraud_rate)
    out = {}
    for name in ("train", "cal", "test"):
        evs = [parse_evidence(r) for r in records if r["split"] == name]
        out[name] = Dataset(np.stack([build_features(e).to_array() for e in evs]),
                            np.asarray([r["label"] for r in records if r["split"] == name], np.int64),
                            np.asarray([baseline_score(e) for e in evs]))
    return out


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width probability bins (weighted by bin size)."""
    idx = np.clip((p * bins).astype(int), 0, bins - 1)
    return float(sum(abs(p[idx == b].mean() - y[idx == b].mean()) * (idx == b).mean()
                     for b in range(bins) if (idx == b).any()))


def evaluate(model: ScorerEnsemble, test: Dataset) -> dict[str, Any]:
    """Held-out metrics of the ensemble, its base learners and the baseline."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    p = model.predict_proba(test.x)
    scores = np.asarray([to_score(v) for v in p])
    base = model.base_logits(test.x)
    genuine, fraud = test.y == 1, test.y == 0
    return {
        "scorer": {
            "roc_auc": float(roc_auc_score(test.y, p)),
            "ece": expected_calibration_error(p, test.y),
            "brier": float(brier_score_loss(test.y, p)),
            "recall_at_70": float((scores[genuine] >= 70).mean()),
            "false_accept_at_70": float((scores[fraud] >= 70).mean()),
            "auc_trees": float(roc_auc_score(test.y, base[:, 0])),
            "auc_logistic": float(roc_auc_score(test.y, base[:, 1])),
            "auc_mlp": float(roc_auc_score(test.y, base[:, 2])),
            "n_test": int(len(test.y)),
        },
        "baseline": {"roc_auc": float(roc_auc_score(test.y, test.baseline))},
    }


def _figures(model: ScorerEnsemble, test: Dataset):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    p = model.predict_proba(test.x)
    rel, ax = plt.subplots(figsize=(5, 5))
    idx = np.clip((p * 10).astype(int), 0, 9)
    xs = [p[idx == b].mean() for b in range(10) if (idx == b).any()]
    ys = [test.y[idx == b].mean() for b in range(10) if (idx == b).any()]
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    ax.plot(xs, ys, "o-", label="ensemble (test users)")
    ax.set(xlabel="predicted probability genuine", ylabel="observed share genuine", title="Reliability")
    ax.legend()
    roc, ax2 = plt.subplots(figsize=(5, 5))
    base = model.base_logits(test.x)
    for name, s in (("ensemble", p), ("trees", base[:, 0]), ("logistic", base[:, 1]), ("mlp", base[:, 2]),
                    ("reference fixed weights", test.baseline)):
        fpr, tpr, _ = roc_curve(test.y, s)
        ax2.plot(fpr, tpr, label=name)
    ax2.set(xlabel="false positive rate (fraud accepted)", ylabel="true positive rate", title="ROC, test users")
    ax2.legend()
    return rel, roc


def log_mlflow(params: ScorerParams, model_dir: Path, metrics: dict[str, Any], model: ScorerEnsemble,
               test: Dataset) -> str:
    """Log params, metrics, plots and the model folder; register the version (alias ``active``)."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from training.mlflow_utils import dvc_lock_hash, flatten, git_commit, log_figure

    uri = os.environ.get("MLFLOW_TRACKING_URI") or params.mlflow.tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(params.mlflow.experiment)
    with mlflow.start_run(run_name="scorer") as run:
        mlflow.log_params(flatten(to_mapping(params)))
        mlflow.log_metrics({k: v for k, v in flatten(metrics).items() if isinstance(v, (int, float))})
        rel, roc = _figures(model, test)
        log_figure(rel, "plots/reliability.png")
        log_figure(roc, "plots/roc.png")
        mlflow.log_artifacts(str(model_dir), artifact_path="scorer")
        tags = {"sha256": model.version.sha256, "git_commit": git_commit(), "dvc_lock_sha256": dvc_lock_hash()}
        mlflow.set_tags(tags)
        if params.mlflow.register:
            client = MlflowClient(tracking_uri=uri)
            try:
                client.get_registered_model(MODEL_NAME)
            except mlflow.exceptions.MlflowException:
                client.create_registered_model(MODEL_NAME, description="VEID identity-score ensemble")
            mv = client.create_model_version(MODEL_NAME, f"{run.info.artifact_uri}/scorer", run.info.run_id, tags=tags)
            client.set_registered_model_alias(MODEL_NAME, "active", mv.version)
        return run.info.run_id


def train(params: ScorerParams, out_dir: Path, progress: bool = True) -> tuple[ScorerEnsemble, dict[str, Any], Dataset]:
    """Generate users, fit, save to ``out_dir`` and evaluate; pure apart from writing ``out_dir``."""
    data = make_splits(params.data)
    model = fit_ensemble(data["train"].x, data["train"].y, data["cal"].x, data["cal"].y, FEATURE_NAMES,
                         DIRECTIONS, FEATURE_SCHEMA_VERSION, params.model, progress)
    metrics = evaluate(model, data["test"])
    model = replace(model, training={"data": to_mapping(params.data), "model": to_mapping(params.model),
                                     "metrics": metrics})
    version = model.save(out_dir)
    return ScorerEnsemble.load(out_dir), {**metrics, "model": {"sha256": version.sha256}}, data["test"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: reads ``params.yaml`` ``scorer``, trains, writes the model and the metrics file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", type=Path, default=Path("models/weights/scorer"))
    ap.add_argument("--metrics", type=Path, default=Path("data/metrics/scorer.json"))
    ap.add_argument("--no-mlflow", action="store_true", help="skip MLflow logging and registration")
    args = ap.parse_args(argv)
    params = load_section(args.params, "scorer", ScorerParams)
    model, metrics, test = train(params, args.out)
    args.metrics.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.metrics.with_name(f".{args.metrics.name}.tmp")
    tmp.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, args.metrics)
    if not args.no_mlflow:
        metrics["mlflow_run_id"] = log_mlflow(params, args.out, metrics, model, test)
    log.info("scorer %s: %s", model.version.sha256[:12], json.dumps(metrics))
    print(json.dumps(metrics, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
