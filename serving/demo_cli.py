"""``veid demo``: run VEID end to end on a local chain with three validators and print the on-chain result."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import click

from veid.config import DEFAULT_PARAMS


@click.command()
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Working folder (kept); default: a temporary folder removed at the end.")
@click.option("--seed", type=int, default=3, show_default=True, help="Synthetic identity seed.")
@click.option("--timeout", "timeout_s", type=float, default=290.0, show_default=True, help="Overall time budget, seconds.")
@click.option("--params", "params_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_PARAMS,
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def demo(work: Path | None, seed: int, timeout_s: float, params_path: Path, as_json: bool) -> None:
    """Start a chain with three validators, capture and upload one synthetic identity, wait for the quorum score."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from serving.demo import run_demo

    import signal

    def _terminate(signum, frame):  # make `kill` behave like Ctrl-C: children are stopped in run_demo's finally
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    tmp = None
    if work is None:
        tmp = Path(tempfile.mkdtemp(prefix="veid-demo-"))
        work = tmp
    try:
        result = run_demo(work, params_path, seed=seed, timeout_s=timeout_s,
                          echo=(lambda s: click.echo(s, err=True)) if as_json else click.echo)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if as_json:
        click.echo(json.dumps({
            "subject": result.subject, "scope_id": result.scope_id, "score": result.score, "tier": result.tier,
            "agreeing_power": result.agreeing_power, "total_power": result.total_power,
            "attestations": list(result.attestations), "seconds": dict(result.seconds),
        }, indent=2))
        return
    first = result.attestations[0]["signed"]["attestation"] if result.attestations else {}
    click.echo("")
    click.echo(f"on-chain score for {result.subject}")
    click.echo(f"  score   {result.score} / 100")
    click.echo(f"  tier    {result.tier}")
    click.echo(f"  quorum  {result.agreeing_power}/{result.total_power} voting power agreed ({len(result.attestations)} attestations)")
    click.echo("  reasons " + (", ".join(first.get("reason_codes", [])) or "-"))
    models = ", ".join(f"{m['name']}" for m in first.get("model_versions", []))
    click.echo(f"  models  {models}")
    click.echo("attestation (first validator's, signed):")
    click.echo(json.dumps(result.attestations[0] if result.attestations else {}, indent=2))
    click.echo("timings (s since start): " + ", ".join(f"{k} {v}" for k, v in result.seconds))
