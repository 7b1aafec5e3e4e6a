"""``veid synth``: generate synthetic identity documents, selfies and scopes with ground truth."""

from __future__ import annotations

from pathlib import Path

import click

from veid.errors import ConfigError, InputError


@click.command("synth")
@click.option("--n", "n", type=int, required=True, help="Number of samples (document sides) to generate, >= 1.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed: the same seed gives identical bytes.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder (created; must be empty unless --force).")
@click.option("--params", type=click.Path(path_type=Path), default=None,
              help="params.yaml to read the `synth` section from (default: the repository's).")
@click.option("--workers", type=int, default=None, help="Worker processes (default: params; output is the same).")
@click.option("--force", is_flag=True, help="Overwrite the generator's outputs in a non-empty folder.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def synth(n: int, seed: int, out: Path, params: Path | None, workers: int | None, force: bool, quiet: bool) -> None:
    """Generate N synthetic identity documents (TD1 ID cards, TD3 passports, AAMVA licences).

    Writes OUT/manifest.jsonl (one record per sample: text and character quads, field masks,
    MRZ, barcode, portrait, capture parameters, labels), OUT/images (camera captures),
    OUT/flat, OUT/masks, OUT/selfies and OUT/scopes.jsonl. Splits are by identity.
    """
    from dataclasses import replace

    from training.synth import SynthConfig, generate
    from veid.config import DEFAULT_PARAMS, load_section

    if n < 1:
        raise click.BadParameter(f"must be at least 1, got {n}", param_hint="--n")
    if workers is not None and workers < 1:
        raise click.BadParameter(f"must be at least 1, got {workers}", param_hint="--workers")
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} exists and is a file, not a folder", param_hint="--out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise click.BadParameter(f"{out} is not empty (use --force to overwrite)", param_hint="--out")
    try:
        cfg = load_section(params or DEFAULT_PARAMS, "synth", SynthConfig)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if workers is not None:
        cfg = replace(cfg, workers=workers)
    try:
        manifest = generate(out, n, seed, cfg, force=force, progress=not quiet)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {n} samples: {manifest}")
