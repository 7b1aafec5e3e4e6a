"""``veid serve``: start the BentoML verification server (``serving.service:VerificationService``) on loopback."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from veid.config import DEFAULT_PARAMS

REPO_ROOT = Path(__file__).resolve().parents[1]


def server_command(host: str, port: int) -> list[str]:
    """The ``bentoml serve`` command line for the VEID service."""
    return [sys.executable, "-m", "bentoml", "serve", "serving.service:VerificationService", "--host", host,
            "--port", str(port), "--working-dir", str(REPO_ROOT)]


def server_env(params: Path, home: Path | None, grpc: str | None, registry: Path | None, state: Path | None) -> dict[str, str]:
    """Environment of the server process (see :mod:`serving.service`)."""
    env = dict(os.environ)
    env["VEID_PARAMS"] = str(Path(params).resolve())
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("BENTOML_DO_NOT_TRACK", "True")
    for name, value in (("VEID_VALIDATOR_HOME", home), ("VEID_CHAIN_GRPC", grpc), ("VEID_CLIENT_REGISTRY", registry),
                        ("VEID_STATE_DIR", state)):
        if value is not None:
            env[name] = str(Path(value).resolve()) if isinstance(value, Path) else str(value)
    return env


@click.command()
@click.option("--home", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Validator home (encryption key, account key): required to verify uploads.")
@click.option("--grpc", default=None, help="Chain gRPC host:port (approved clients and readiness from the chain).")
@click.option("--registry", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON approved-client registry, when no chain is given.")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for accepted envelopes and the replay database.")
@click.option("--host", default=None, help="Bind address (default: serving.host, loopback).")
@click.option("--port", type=int, default=None, help="Port (default: serving.port).")
@click.option("--params", "params_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_PARAMS,
              show_default=True)
def serve(home: Path | None, grpc: str | None, registry: Path | None, state: Path | None, host: str | None,
          port: int | None, params_path: Path) -> None:
    """Serve POST /verify (encrypted upload -> signed attestation), POST /score, /readyz, /livez and /metrics."""
    from serving.config import ServingConfig
    from veid.config import load_section

    cfg = load_section(params_path, "serving", ServingConfig)
    cmd = server_command(host or cfg.host, port or cfg.port)
    os.execve(sys.executable, cmd, server_env(params_path, home, grpc, registry, state))
