"""MLflow plumbing shared by the document-model training scripts: tracking URI, runs, hashes, plots."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DocTrainConfig:
    """``params.yaml: doc_train``: settings shared by the document-model training stages.

    Attributes:
        tracking_uri: MLflow tracking store; the environment variable
            ``MLFLOW_TRACKING_URI`` overrides it. Relative SQLite paths resolve against
            the working directory (DVC runs stages at the repository root).
        experiment: MLflow experiment name.
        seed: seed for weight initialisation, sampling and augmentation.
        threads: TensorFlow intra-op threads (the machine has 2 cores).
    """

    tracking_uri: str = "sqlite:///mlflow.db"
    experiment: str = "veid-document-models"
    seed: int = 1234
    threads: int = 2


def tracking_uri(cfg: DocTrainConfig) -> str:
    """The tracking URI in effect (environment first, then params)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or cfg.tracking_uri


def setup_tensorflow(cfg: DocTrainConfig) -> None:
    """Quiet logs, fix seeds and pin thread counts (call before building models)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised in this process (tests): keep its setting
        pass
    keras.utils.set_random_seed(cfg.seed)


@contextmanager
def mlflow_run(cfg: DocTrainConfig, run_name: str, params: Mapping[str, Any]) -> Iterator[Any]:
    """Start an MLflow run in the configured store and log flattened ``params``."""
    import mlflow

    uri = tracking_uri(cfg)
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(cfg.experiment) is None:
        mlflow.create_experiment(cfg.experiment, artifact_location=artifact_location(uri))
    mlflow.set_experiment(cfg.experiment)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(flatten(params))
        mlflow.set_tags({"git_commit": git_commit(), "stage": run_name})
        yield run


def artifact_location(uri: str) -> str | None:
    """Artifacts of a SQLite store go to ``mlruns/`` beside the database file (else MLflow's default)."""
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///"):])
        return (db.resolve().parent / "mlruns").as_uri()
    return None


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists kept as strings)."""
    out: dict[str, Any] = {}
    for k, v in mapping.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit(repo: Path = REPO) -> str:
    """Current commit hash (``"unknown"`` outside a git checkout); ``+dirty`` is not tracked."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def dvc_lock_hash(repo: Path = REPO) -> str:
    """SHA-256 of ``data/dvc.lock`` (``"none"`` before the first ``dvc repro``)."""
    lock = repo / "data" / "dvc.lock"
    return file_sha256(lock) if lock.is_file() else "none"


def loss_curve_figure(history: Mapping[str, list[float]], title: str):
    """A matplotlib figure of every per-epoch series in ``history`` (loss-like on log axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in history.items():
        ax.plot(range(1, len(values) + 1), values, marker="o", label=name)
    ax.set_xlabel("epoch")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def log_figure(fig, artifact_file: str) -> None:
    """Log a matplotlib figure to the active MLflow run and close it."""
    import matplotlib.pyplot as plt
    import mlflow

    mlflow.log_figure(fig, artifact_file)
    plt.close(fig)


def log_classifier_run(cfg: DocTrainConfig, run_name: str, params: Mapping[str, Any], metrics: Mapping[str, Any],
                       model_path: Path, figure: Any, plot_name: str) -> str:
    """One MLflow run for a small classifier stage: its parameters, metrics (``None`` values left out), a
    plot, the weights as an artifact and their sha256 as a tag; returns the run id."""
    import mlflow

    with mlflow_run(cfg, run_name, params) as run:
        mlflow.log_metrics({k: v for k, v in metrics.items() if v is not None})
        mlflow.set_tags({"sha256": file_sha256(model_path)})
        log_figure(figure, f"plots/{plot_name}")
        mlflow.log_artifact(str(model_path), artifact_path=run_name.removeprefix("train_"))
        return run.info.run_id
