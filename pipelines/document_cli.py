"""``veid document IMAGE``: read and verify an identity-document photo, as a table or JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click


def _write_debug(out: Path, result, image) -> None:
    """One annotated PNG per stage: upright photo with quad and portrait, warped document with field boxes."""
    import cv2
    import numpy as np

    from pipelines.document.orientation import rotate

    out.mkdir(parents=True, exist_ok=True)

    def save(name: str, rgb: np.ndarray) -> None:
        tmp = out / f".{name}.tmp.png"
        cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        os.replace(tmp, out / f"{name}.png")

    upright = np.array(rotate(image, result.orientation.angle), copy=True)
    if result.warped is not None:
        cv2.polylines(upright, [result.warped.quad.to_array().astype(np.int32)], True, (255, 0, 0), 3)
    if result.portrait_box is not None:
        b = result.portrait_box
        cv2.rectangle(upright, (int(b.x0), int(b.y0)), (int(b.x1), int(b.y1)), (0, 255, 0), 3)
    save("1_orientation_perspective", upright)
    if result.warped is not None:
        flat = result.warped.image.copy()
        for f, r in result.fields.items():
            if r.box is not None:
                cv2.rectangle(flat, (int(r.box.x0), int(r.box.y0)), (int(r.box.x1), int(r.box.y1)), (255, 0, 255), 2)
                cv2.putText(flat, f.value, (int(r.box.x0), int(r.box.y0) - 4), 0, 0.5, (255, 0, 255), 1)
        save("2_warped_fields", flat)
    if result.portrait is not None and result.portrait.size:
        save("3_portrait", result.portrait)


@click.command("document")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--debug", "debug_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write an annotated image per stage into this folder.")
@click.option("--params", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="params.yaml to read the document_* sections from (default: the repository's).")
@click.option("--no-models", is_flag=True, help="Skip the CRAFT/UNET field models (fields from MRZ/barcode only).")
def document(image: Path, as_json: bool, debug_dir: Path | None, params: Path | None, no_models: bool) -> None:
    """Read and verify an identity-document photo IMAGE.

    Prints the key fields (value, source, confidence), every check with its reason, the MRZ
    (valid only when every check digit verifies), barcodes and per-stage timings.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up notes are not the result
    from pipelines.document.image_io import decode_image
    from pipelines.document.pipeline import DocumentStages, load_config, verify_document
    from veid.config import DEFAULT_PARAMS
    from veid.errors import ModelError

    cfg = load_config(params or DEFAULT_PARAMS)
    models = None
    if not no_models:
        try:
            from models.registry import load_document_models

            models = load_document_models()
        except ModelError as exc:
            click.echo(f"note: field models unavailable ({exc}); fields come from the MRZ/barcode only", err=True)
    stages = DocumentStages.build(cfg, models)
    rgb = decode_image(image, cfg.input)
    result = verify_document(rgb, cfg, stages)
    if debug_dir is not None:
        _write_debug(debug_dir, result, rgb)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    data = result.to_json()
    turn = data["orientation"]
    angle = f"{turn['angle']} deg (from the {turn['source']})" if turn["source"] != "none" else "not found"
    click.echo(f"family: {data['family'] or 'unknown'}   orientation: {angle}")
    click.echo("fields:")
    for name, f in data["fields"].items():
        click.echo(f"  {name:<14} {f['value']:<28} {f['source']:<8} {f['confidence']:.2f}")
    if data["mrz"]:
        click.echo(f"mrz ({data['mrz']['layout']}, {'valid' if data['mrz']['valid'] else 'INVALID'}):")
        for line in data["mrz"]["lines"]:
            click.echo(f"  {line}")
    for b in data["barcode"]:
        click.echo(f"barcode: {b['format']}{' (AAMVA)' if b['aamva'] else ''}")
    click.echo("checks:")
    for c in data["checks"]:
        click.echo(f"  [{'PASS' if c['passed'] else 'FAIL'}] {c['name']:<32} {c['reason']}")
    click.echo("timings (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in data["timings_ms"].items()))
