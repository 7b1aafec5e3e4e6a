"""``veid models-export``: copy registered models from the MLflow registry into the BentoML model store.

Each exported BentoML model holds the registered version's artifact files unchanged, with the
MLflow name, version, run id and the SHA-256 of every file in its metadata, so a validator
can check that what it serves is what was registered. The service uses an exported scorer
when ``serving.bento_model`` names it (e.g. ``veid-scorer:latest``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click

DEFAULT_NAMES = ("veid-scorer", "veid-craft", "veid-field-unet")


@dataclass(frozen=True)
class Exported:
    """One exported model: BentoML tag, MLflow name and version, and a digest over its files."""

    tag: str
    mlflow_name: str
    mlflow_version: str
    files_sha256: str


def files_digest(folder: Path, exclude: tuple[str, ...] = ("model.yaml",)) -> str:
    """SHA-256 over every file's relative path and SHA-256, in path order (BentoML's ``model.yaml`` excluded)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and str(p.relative_to(folder)) not in exclude):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def export_models(tracking_uri: str, names: tuple[str, ...] = DEFAULT_NAMES, alias: str = "active") -> list[Exported]:
    """Export the ``alias`` version (else the latest) of each registered model in ``names`` that exists.

    Raises:
        ModelError: a registered version's artifacts cannot be downloaded.
    """
    import bentoml
    from mlflow.artifacts import download_artifacts
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from veid.errors import ModelError

    client = MlflowClient(tracking_uri=tracking_uri)
    out = []
    for name in names:
        try:
            registered = client.get_registered_model(name)
        except MlflowException:
            continue
        version = registered.aliases.get(alias)
        if version is None:
            versions = client.search_model_versions(f"name='{name}'")
            if not versions:
                continue
            version = max(int(v.version) for v in versions)
        mv = client.get_model_version(name, str(version))
        with tempfile.TemporaryDirectory(prefix="veid-export-") as tmp:
            try:
                local = Path(download_artifacts(artifact_uri=client.get_model_version_download_uri(name, str(version)),
                                                dst_path=tmp, tracking_uri=tracking_uri))
            except (MlflowException, OSError) as exc:
                raise ModelError(f"cannot download {name} version {version}: {exc}") from exc
            digest = files_digest(local)
            meta = {"mlflow_name": name, "mlflow_version": str(version), "mlflow_run_id": mv.run_id or "",
                    "files_sha256": digest, "tags": dict(mv.tags or {})}
            with bentoml.models.create(name, labels={"source": "mlflow", "alias": alias}, metadata=meta) as model:
                target = Path(model.path)
                for item in local.iterdir():
                    dest = target / item.name
                    shutil.copytree(item, dest) if item.is_dir() else shutil.copy2(item, dest)
            out.append(Exported(str(model.tag), name, str(version), digest))
    return out


def exported_path(tag: str) -> Path:
    """Folder of an exported model in the BentoML store, checked against its recorded file digest.

    Raises:
        ModelError: unknown tag, or files that differ from what was exported.
    """
    import bentoml
    from bentoml.exceptions import NotFound

    from veid.errors import ModelError

    try:
        model = bentoml.models.get(tag)
    except NotFound as exc:
        raise ModelError(f"no BentoML model {tag!r} (run `veid models-export`)") from exc
    path = Path(model.path)
    want = model.info.metadata.get("files_sha256")
    if want and files_digest(path) != want:
        raise ModelError(f"BentoML model {tag} differs from what was exported (files digest mismatch)")
    return path


@click.command(name="models-export")
@click.option("--tracking-uri", default=None, help="MLflow store (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db).")
@click.option("--name", "names", multiple=True, help=f"Registered model(s) to export (default: {', '.join(DEFAULT_NAMES)}).")
@click.option("--alias", default="active", show_default=True, help="Registered-model alias to export (else the latest version).")
def models_export(tracking_uri: str | None, names: tuple[str, ...], alias: str) -> None:
    """Import registered models from the MLflow registry into the BentoML model store ($BENTOML_HOME)."""
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///mlflow.db"
    exported = export_models(uri, names or DEFAULT_NAMES, alias)
    if not exported:
        click.echo(f"no registered model among {', '.join(names or DEFAULT_NAMES)} in {uri}")
        return
    for e in exported:
        click.echo(f"exported {e.mlflow_name} v{e.mlflow_version} -> {e.tag}  files sha256 {e.files_sha256[:16]}...")
