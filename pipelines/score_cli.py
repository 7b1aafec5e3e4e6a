"""``veid score FEATURES.json [--json]``: score a person's scopes with the trained ensemble and explain the score."""

from __future__ import annotations

import json
from pathlib import Path

import click

from veid.errors import InputError


@click.command("score")
@click.argument("features", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--params", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="params.yaml to read the scorer.scoring section from (default: the repository's).")
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Trained scorer folder (default: scorer.scoring.model_dir).")
def score(features: Path, as_json: bool, params: Path | None, model_dir: Path | None) -> None:
    """Score FEATURES.json: an object of scopes (email, sms, sso, domain, document, selfie,
    liveness, biometric, provenance, metadata; null when not attempted), or one line of a
    synthetic scopes.jsonl. Prints the score 0-100, the tier, and which scopes raised or
    lowered it and by how many points.
    """
    from dataclasses import replace

    from pipelines.scoring.evidence import parse_evidence
    from pipelines.scoring.scorer import IdentityScorer, ScoringConfig
    from veid.config import DEFAULT_PARAMS, load_section

    try:
        raw = json.loads(features.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{features}: not a readable JSON file: {exc}") from exc
    evidence = parse_evidence(raw)
    cfg = load_section(params or DEFAULT_PARAMS, "scorer.scoring", ScoringConfig)
    if model_dir is not None:
        cfg = replace(cfg, model_dir=str(model_dir.resolve()))
    result = IdentityScorer.from_config(cfg)(evidence)
    if as_json:
        click.echo(json.dumps(result.to_json(), sort_keys=True))
        return
    click.echo(f"score: {result.score}/100   tier: {result.tier or 'none'}"
               + (f"   next: {result.next_tier}" if result.next_tier else ""))
    if result.borderline:
        hint = (f"; adding {result.suggested_scope} would typically add {result.suggested_gain} points"
                if result.suggested_scope else "")
        click.echo(f"borderline: within {cfg.borderline_band} points of {result.next_tier}{hint}")
    click.echo("reasons (points = score minus score without that scope):")
    for r in result.reasons:
        click.echo(f"  {r.points:+4d}  ({r.log_odds:+6.2f} log-odds)  {r.scope:<11} {', '.join(r.codes)}")
    if result.missing:
        click.echo(f"not attempted: {', '.join(result.missing)}")
    click.echo(f"model: {result.model_version.name} {result.model_version.sha256[:12]}  "
               f"features v{result.feature_schema_version}")
