"""Shipped document-model weights: sidecar records, sha256 verification, offline loading, MLflow listing.

``models/weights/<key>.keras`` holds a model and ``<key>.json`` its record (schema 1):
``{"name", "file", "sha256", "settings", "git_commit", "mlflow_run_id"}``. Loading reads
only these local files (Keras ``safe_mode``), never the network, and refuses a file whose
sha256 differs from its record.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veid.errors import ModelError
from veid.types import ModelVersion

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: key -> registered model name
MODEL_NAMES = {"craft": "veid-craft", "unet": "veid-field-unet", "marks": "veid-diacritic-marks",
               "captions": "veid-field-captions", "low_marks": "veid-low-marks"}
ACTIVE_ALIAS = "active"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_record(model_path: Path, key: str, settings: dict[str, Any], **extra: Any) -> Path:
    """Write ``<key>.json`` beside ``model_path`` with its sha256 (atomically); returns its path."""
    record = {
        "schema": 1, "name": MODEL_NAMES[key], "file": model_path.name,
        "sha256": sha256_file(model_path), "settings": settings, **extra,
    }
    out = model_path.with_name(f"{key}.json")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    return out


def read_record(key: str, weights_dir: Path | None = None) -> dict[str, Any]:
    """The record of model ``key`` (``craft``, ``unet`` or ``marks``); raises :class:`ModelError` if absent."""
    path = (weights_dir or WEIGHTS_DIR) / f"{key}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"model record {path} missing or unreadable: {exc}") from exc


def verify(key: str, weights_dir: Path | None = None) -> ModelVersion:
    """Check model ``key``'s file against its recorded sha256; returns its version or raises ModelError."""
    weights_dir = weights_dir or WEIGHTS_DIR
    record = read_record(key, weights_dir)
    path = weights_dir / record["file"]
    if not path.is_file():
        raise ModelError(f"model file {path} is missing")
    digest = sha256_file(path)
    if digest != record["sha256"]:
        raise ModelError(f"model file {path}: sha256 {digest[:12]}... differs from its record {record['sha256'][:12]}...")
    return ModelVersion(record["name"], digest, {"file": str(path), "git_commit": record.get("git_commit", "")})


def file_version(key: str, path: Path) -> ModelVersion:
    """The version of model ``key``'s weights at ``path``. Where its record ``<key>.json`` lies beside the
    file (the shipped weights), the file's sha256 must be the recorded one; elsewhere (weights trained
    apart) the file's own sha256 is reported.

    Raises:
        ModelError: the file differs from its record.
    """
    if path.with_name(f"{key}.json").is_file():
        return verify(key, path.parent)
    return ModelVersion(MODEL_NAMES[key], sha256_file(path), {"file": str(path)})


def load_keras(path: Path):
    """Load a ``.keras`` file offline (no compile, safe mode; VEID's custom layers registered)."""
    import keras

    import models.layers  # noqa: F401  (registers CoordChannels, GlobalContext)

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"cannot load model {path}: {exc}") from exc


@dataclass(frozen=True)
class DocumentModels:
    """The two document models, ready to call."""

    craft: Any  # models.craft.CraftDetector
    unet: Any  # models.unet.FieldSegmenter

    @property
    def versions(self) -> list[ModelVersion]:
        return [self.craft.version, self.unet.version]


def load_document_models(weights_dir: Path | None = None) -> DocumentModels:
    """Verify and load the shipped CRAFT detector and field segmenter (no network access).

    Args:
        weights_dir: folder with ``craft.keras/.json`` and ``unet.keras/.json``
            (default: the weights shipped in ``models/weights``).

    Raises:
        ModelError: a file is missing, unreadable, or its hash differs from its record.
    """
    from models.craft import CraftDetector
    from models.unet import FieldSegmenter

    weights_dir = weights_dir or WEIGHTS_DIR
    cv, uv = verify("craft", weights_dir), verify("unet", weights_dir)
    craft_settings = read_record("craft", weights_dir)["settings"]
    unet_settings = read_record("unet", weights_dir)["settings"]
    craft = CraftDetector(load_keras(Path(cv.extra["file"])), cv, int(craft_settings.get("long_side", 768)))
    unet = FieldSegmenter(load_keras(Path(uv.extra["file"])), uv, bool(unet_settings.get("use_image", True)))
    return DocumentModels(craft, unet)


@dataclass(frozen=True)
class RegisteredVersion:
    """One registered model version as stored in MLflow."""

    name: str
    version: str
    sha256: str
    active: bool
    run_id: str
    git_commit: str
    dvc_lock: str
    shipped: bool  # the sha256 equals the weights shipped in the repository


def list_registered(tracking_uri: str, weights_dir: Path | None = None) -> list[RegisteredVersion]:
    """Every version of the VEID document models and the identity scorer registered at ``tracking_uri``."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    shipped = {}
    for key in MODEL_NAMES:
        try:
            shipped[MODEL_NAMES[key]] = read_record(key, weights_dir)["sha256"]
        except ModelError:
            pass
    from models.scorer import MODEL_NAME as SCORER_NAME, ScorerEnsemble

    try:  # the scorer ships as a folder (models/weights/scorer); its sha256 is the content hash it registers
        shipped[SCORER_NAME] = ScorerEnsemble.load((weights_dir or WEIGHTS_DIR) / "scorer").version.sha256
    except ModelError:
        pass
    client = MlflowClient(tracking_uri=tracking_uri)
    out = []
    for name in [*MODEL_NAMES.values(), SCORER_NAME]:
        try:
            active = client.get_registered_model(name).aliases.get(ACTIVE_ALIAS)
        except MlflowException:
            continue
        for mv in client.search_model_versions(f"name='{name}'"):
            tags = mv.tags or {}
            out.append(RegisteredVersion(
                name=name, version=str(mv.version), sha256=tags.get("sha256", ""),
                active=str(mv.version) == str(active), run_id=mv.run_id or "",
                git_commit=tags.get("git_commit", ""), dvc_lock=tags.get("dvc_lock_sha256", ""),
                shipped=tags.get("sha256", "") == shipped.get(name),
            ))
    out.sort(key=lambda v: (v.name, int(v.version)))
    return out
