"""``veid face IMAGE_A IMAGE_B``: compare two face photos (distance, match, probability, quality checks)."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command(name="face")
@click.argument("image_a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("image_b", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--document-portrait", is_flag=True,
              help="IMAGE_A is a portrait cut from an identity document: also check that IMAGE_B is not that portrait.")
@click.option("--params", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="params.yaml to read the `face` section from (default: the repository's).")
def face(image_a: Path, image_b: Path, as_json: bool, document_portrait: bool, params: Path | None) -> None:
    """Compare the largest face in IMAGE_A with the largest face in IMAGE_B.

    Prints the embedding distance, whether it is a match at the calibrated threshold, the
    calibrated probability of the same person, and every quality check of both photos.
    Exit status 0 whatever the verdict; 2 when a photo is unreadable or shows no face.
    """
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from pipelines.face.models import FaceModels
    from pipelines.face.verify import FaceConfig, FaceVerifier
    from veid.config import DEFAULT_PARAMS, load_section

    cfg = load_section(params or DEFAULT_PARAMS, "face", FaceConfig)
    result = FaceVerifier(cfg, FaceModels.load()).compare(image_a, image_b, a_is_document_portrait=document_portrait)
    if as_json:
        click.echo(json.dumps(result.to_json_dict(), indent=2))
        return
    verdict = "MATCH" if result.match else "NO MATCH"
    if result.score != result.distance:  # cohort-normalised (face.cohort): the threshold applies to the score
        click.echo(f"distance     {result.distance:.4f}")
        click.echo(f"score        {result.score:.4f}  (threshold {result.threshold:.4f}; distance normalised by the cohort)")
    else:
        click.echo(f"distance     {result.distance:.4f}  (threshold {result.threshold:.4f})")
    click.echo(f"match        {verdict}")
    click.echo(f"probability  {result.probability:.3f}")
    click.echo(f"checks       {'all passed' if result.quality_passed else 'FAILED'}")
    for check in result.checks:
        mark = "ok  " if check.passed else "FAIL"
        click.echo(f"  {mark} {check.name:<28} {check.reason}")
