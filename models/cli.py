"""``veid models``: list the registered models (CRAFT, field UNET, identity scorer) and verify the shipped weights."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import click

DEFAULT_URI = "sqlite:///mlflow.db"


def _uri(uri: str | None) -> str:
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


@click.group()
def models() -> None:
    """List, verify and export the registered models."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--tracking-uri", default=None, help=f"MLflow store (default: $MLFLOW_TRACKING_URI or {DEFAULT_URI}).")
@click.option("--weights", type=click.Path(path_type=Path), default=None, help="Shipped weights folder.")
def list_models(as_json: bool, tracking_uri: str | None, weights: Path | None) -> None:
    """Show every registered model version, its sha256, and which version is active.

    The SHIPPED column marks versions whose sha256 equals the weights in the repository.
    """
    from models.registry import list_registered

    rows = list_registered(_uri(tracking_uri), weights)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"no registered models in {_uri(tracking_uri)} (run `dvc repro data/dvc.yaml:register` first)")
        return
    click.echo(f"{'MODEL':<21} {'VER':>3}  {'ACTIVE':<6} {'SHIPPED':<7} {'SHA256':<16} {'GIT':<10} RUN")
    for r in rows:
        click.echo(
            f"{r.name:<21} {r.version:>3}  {'*' if r.active else '':<6} {'yes' if r.shipped else 'no':<7} "
            f"{r.sha256[:16]:<16} {r.git_commit[:10]:<10} {r.run_id[:12]}"
        )


@models.command("verify")
@click.option("--weights", type=click.Path(path_type=Path), default=None, help="Shipped weights folder.")
def verify_models(weights: Path | None) -> None:
    """Check the shipped weights' sha256 against their records (exit 2 on a mismatch)."""
    from models.registry import MODEL_NAMES, verify

    for key in MODEL_NAMES:
        version = verify(key, weights)  # raises ModelError -> "error: ..." and exit status 2
        click.echo(f"ok  {version.name:<21} sha256 {version.sha256}")
