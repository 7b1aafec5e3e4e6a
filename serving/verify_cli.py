"""``veid verify DOCUMENT --selfie SELFIE``: one local verification without a chain (fields, checks, face match, score, reasons)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from veid.config import DEFAULT_PARAMS


@click.command()
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--selfie", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Selfie photo of the document holder.")
@click.option("--scopes", "scopes_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="JSON of web scopes already verified (email, sms, sso, domain, biometric, metadata).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--params", "params_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_PARAMS,
              show_default=True)
def verify(document: Path, selfie: Path, scopes_file: Path | None, as_json: bool, params_path: Path) -> None:
    """Read DOCUMENT, compare its portrait with SELFIE, and score the identity (0-100, tier, reasons).

    Nothing is sent anywhere and no capture provenance is checked (there is no signed
    capture), so the provenance scope counts as missing. Exit status 0 whatever the verdict,
    2 when an input cannot be read.
    """
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from pipelines.scoring.evidence import parse_evidence
    from serving.bundle import CLIENT_SCOPES
    from serving.verifier import IdentityVerifier, PipelineSettings
    from veid.errors import InputError

    web = None
    if scopes_file is not None:
        try:
            raw = json.loads(scopes_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{scopes_file}: not readable JSON: {exc}") from exc
        raw = raw.get("scopes", raw) if isinstance(raw, dict) else raw
        web = parse_evidence({k: v for k, v in raw.items() if k in CLIENT_SCOPES} if isinstance(raw, dict) else raw)
    verifier = IdentityVerifier.load(PipelineSettings.from_params(params_path))
    outcome = verifier.verify(document.read_bytes(), selfie.read_bytes(), web, subject="local")
    if as_json:
        click.echo(json.dumps(outcome_json(outcome), indent=2, sort_keys=True))
        return
    click.echo(f"score        {outcome.score} / 100   tier {outcome.tier}   (p = {outcome.probability:.3f})")
    if outcome.face_distance is not None:
        match = next((c for c in outcome.checks if c.name == "face.match"), None)
        click.echo(f"face match   {'MATCH' if match and match.passed else 'NO MATCH'}   distance {outcome.face_distance:.3f}")
    else:
        click.echo("face match   not compared")
    click.echo(f"document     read by the {outcome.document_source} stage")
    for name, value in outcome.fields:
        click.echo(f"  {name:<14} {value}")
    click.echo("checks")
    for c in outcome.checks:
        click.echo(f"  {'ok  ' if c.passed else 'FAIL'} {c.name:<40} {c.score:5.2f}  {c.reason}")
    click.echo("reasons      " + ", ".join(outcome.reason_codes))
    click.echo("models       " + ", ".join(m.name for m in outcome.model_versions))
    click.echo("timings      " + ", ".join(f"{n} {s:.2f}s" for n, s in outcome.stage_seconds))


def outcome_json(outcome) -> dict:
    """JSON view of a :class:`serving.verifier.VerificationOutcome` (includes the fields read: local use only)."""
    return {
        "score": outcome.score, "tier": outcome.tier, "probability": round(outcome.probability, 9),
        "reason_codes": list(outcome.reason_codes),
        "face_distance": None if outcome.face_distance is None else round(outcome.face_distance, 6),
        "fields": dict(outcome.fields), "document_source": outcome.document_source,
        "checks": [{"name": c.name, "passed": c.passed, "score": round(c.score, 4), "reason": c.reason}
                   for c in outcome.checks],
        "evidence": outcome.evidence.to_json(),
        "models": [{"name": m.name, "sha256": m.sha256} for m in outcome.model_versions],
        "stage_seconds": {n: round(s, 4) for n, s in outcome.stage_seconds},
    }
