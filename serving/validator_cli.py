"""``veid validator init|run``: a validator's encryption key and home, and the daemon that attests chain requests."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import click

from veid.config import DEFAULT_PARAMS

_params = click.option("--params", "params_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_PARAMS,
                       show_default=True, help="params.yaml (sections validator, serving, face, provenance, attest).")


@click.group()
def validator() -> None:
    """Validator operations: create a validator home, run the attestation daemon."""


@validator.command()
@click.option("--home", "home", required=True, type=click.Path(file_okay=False, path_type=Path), help="Validator home to create.")
@click.option("--key", "key_name", required=True, help="Name of the validator's account key (e.g. validator-0).")
@click.option("--chain-home", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Chain home: its keys/ holds the account key and, from genesis, the validator's encryption key.")
@click.option("--envelopes", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Shared envelope store (default: CHAIN_HOME/envelopes).")
@click.option("--overwrite", is_flag=True, help="Replace an existing encryption key.")
def init(home: Path, key_name: str, chain_home: Path, envelopes: Path | None, overwrite: bool) -> None:
    """Create HOME with KEY's X25519 encryption key (mode 0600).

    The key that genesis published on chain for KEY (CHAIN_HOME/keys/KEY.x25519) is adopted when it
    exists; otherwise a fresh key is made and its public key published to CHAIN_HOME's key directory file.
    """
    from chain_client.chain.home import encryption_key, load_config
    from serving.daemon import ValidatorHome
    from serving.keydir import FileKeyDirectory, create_encryption_key
    from veid.errors import ChainError

    cfg = load_config(chain_home)
    vhome = ValidatorHome(home.resolve(), key_name, chain_home.resolve(), (envelopes or chain_home / "envelopes").resolve())
    address = vhome.account_key(cfg.prefix).address
    try:
        genesis_key = encryption_key(chain_home, key_name)
    except ChainError:
        genesis_key = None
    key = create_encryption_key(home, overwrite=overwrite, key=genesis_key)
    vhome.write()
    if genesis_key is not None:
        click.echo(f"validator {key_name} ({address}): encryption key {key.key_id} (on chain since genesis) in {home}")
        return
    FileKeyDirectory.for_chain_home(chain_home).publish(address, key.public_key())
    click.echo(f"validator {key_name} ({address}): encryption key {key.key_id} in {home}, published to "
               f"{FileKeyDirectory.for_chain_home(chain_home).path}")


@validator.command()
@click.option("--home", "home", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--key", "key_name", default=None, help="Account key name (default: the one in HOME/validator.json).")
@click.option("--grpc", "grpc_address", default=None, help="Chain gRPC host:port (default: the chain home's running node).")
@click.option("--max-seconds", type=float, default=None, help="Stop after this many seconds.")
@click.option("--exit-when-idle", is_flag=True, help="Stop when no request is pending (batch use).")
@click.option("--parent-pid", type=int, default=None,
              help="Stop (SIGTERM) when this parent process dies, even if it is killed (Linux; used by `veid demo`).")
@click.option("--crash-after", type=click.Choice(["", "attested", "submitted"]), default="", hidden=True,
              help="Fault injection for tests: exit abruptly right after this step.")
@_params
def run(home: Path, key_name: str | None, grpc_address: str | None, max_seconds: float | None, exit_when_idle: bool,
        parent_pid: int | None, crash_after: str, params_path: Path) -> None:
    """Watch the chain for verification requests and submit an attestation for each (Ctrl-C stops cleanly)."""
    if parent_pid is not None:
        _exit_with_parent(parent_pid)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from attest.config import AttestConfig
    from chain_client.chain.home import load_config, running_address, wallet
    from chain_client.client import ChainClient
    from serving.config import ValidatorConfig
    from serving.daemon import ValidatorDaemon, ValidatorHome
    from serving.envelope_store import EnvelopeStore
    from serving.keydir import load_encryption_key
    from serving.progress import ProgressStore
    from serving.verifier import IdentityVerifier, PipelineSettings
    from veid.config import load_section
    from veid.errors import ChainError
    from veid.logs import setup_logging

    setup_logging("INFO")
    vhome = ValidatorHome.read(home)
    if key_name and key_name != vhome.key_name:
        vhome = ValidatorHome(vhome.path, key_name, vhome.chain_home, vhome.envelope_dir)
    cfg = load_section(params_path, "validator", ValidatorConfig)
    attest_cfg = load_section(params_path, "attest", AttestConfig)
    chain_cfg = load_config(vhome.chain_home)
    address = grpc_address or running_address(vhome.chain_home)
    if address is None:
        raise ChainError(f"no running node in {vhome.chain_home} and no --grpc")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    settings = PipelineSettings.from_params(params_path)
    client = ChainClient(address, chain_cfg)
    key = vhome.account_key(chain_cfg.prefix)
    progress = ProgressStore(home / "progress.sqlite")
    daemon = ValidatorDaemon(
        cfg, client, _wallet(vhome, chain_cfg.prefix, wallet), key, load_encryption_key(home),
        lambda: IdentityVerifier.load(settings), settings.provenance,
        EnvelopeStore(vhome.envelope_dir, cfg.max_envelope_bytes), progress, attest_cfg.attestation_validity_days,
        settings.tiers, crash_after=crash_after,
    )  # fmt: skip
    click.echo(f"validator {vhome.key_name} ({key.address}) watching {address}", err=True)
    try:
        n = daemon.run(stop, max_seconds=max_seconds, exit_when_idle=exit_when_idle)
    finally:
        counts = progress.counts()
        progress.close()
        client.close()
    click.echo(f"validator {vhome.key_name}: {n} attestation(s) submitted this run; "
               + ", ".join(f"{s.value} {c}" for s, c in sorted(counts.items(), key=lambda t: t[0].value)), err=True)


def _exit_with_parent(parent: int) -> None:
    """Ask Linux for SIGTERM when the parent dies (PR_SET_PDEATHSIG); exit now if ``parent`` is already gone."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        return
    if os.getppid() != parent:
        raise SystemExit(0)


def _wallet(vhome, prefix: str, chain_wallet):
    from cosmpy.aerial.wallet import LocalWallet

    own = vhome.path / "keys" / f"{vhome.key_name}.mnemonic"
    if own.exists():
        return LocalWallet.from_mnemonic(own.read_text(encoding="utf-8").strip(), prefix=prefix)
    return chain_wallet(vhome.chain_home, vhome.key_name, prefix)
