"""``veid chain``: create, run, describe and query the embedded local chain."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import click
from google.protobuf import json_format

from veid.config import DEFAULT_PARAMS, load_section
from veid.errors import ChainError

_home = click.option("--home", "home", type=click.Path(file_okay=False, path_type=Path), required=True,
                     help="Chain home directory.")  # fmt: skip
_grpc = click.option("--grpc", "grpc_address", default=None, help="gRPC host:port (default: the running node's).")
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _echo(obj: object, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(obj, indent=2, sort_keys=True))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            click.echo(f"{key}: {value if not isinstance(value, (dict, list)) else json.dumps(value)}")
    else:
        click.echo(json.dumps(obj, indent=2))


@click.group()
def chain() -> None:
    """Run and query the embedded local chain (a single-node Cosmos-compatible chain)."""


@chain.command()
@_home
@click.option("--params", "params_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_PARAMS,
              show_default=True, help="params.yaml whose `chain` section configures the chain.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace an existing genesis, keys and data.")
def init(home: Path, params_path: Path, overwrite: bool) -> None:
    """Create keys (validator-0..2, alice, bob, client, genesis) and a genesis file in HOME.

    Mnemonics are written to HOME/keys/NAME.mnemonic with mode 0600: for local testing only.
    """
    from chain_client.chain.home import init_home
    from chain_client.config import ChainConfig

    cfg = load_section(params_path, "chain", ChainConfig)
    genesis = init_home(home, cfg, overwrite=overwrite)
    click.echo(f"initialised chain {genesis.chain_id} in {home}")
    for account in genesis.accounts:
        click.echo(f"  {account.name:<12} {account.address}  {account.balance}{genesis.denom}")


@chain.command()
@_home
@click.option("--grpc-port", type=int, default=None, help="gRPC port (default from the chain config; 0: any free).")
def start(home: Path, grpc_port: int | None) -> None:
    """Run the node in the foreground until SIGTERM or Ctrl-C (then stop cleanly)."""
    from chain_client.chain.home import open_node

    running = open_node(home, grpc_port)
    stop = threading.Event()

    def on_signal(*_) -> None:
        # A watchdog thread, armed at the signal: if the clean stop below hangs (it once did, after the
        # demo was killed with -9 mid-request), dump every thread's stack and exit anyway. Committed
        # blocks are already durable in SQLite, so an unclean exit loses nothing.
        if not stop.is_set():
            threading.Thread(target=_exit_after, args=(STOP_TIMEOUT_S,), daemon=True, name="veid-stop-watchdog").start()
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    click.echo(f"chain {running.node.app.cfg.chain_id} serving gRPC on {running.address} (height {running.node.height})")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        height = running.node.height
        running.stop()
        click.echo(f"stopped at height {height}")


#: Seconds a signalled node may take to stop cleanly before it exits regardless.
STOP_TIMEOUT_S = 15.0


def _exit_after(seconds: float) -> None:
    import faulthandler
    import os
    import sys
    import time

    time.sleep(seconds)
    print(f"node did not stop within {seconds:.0f} s; thread stacks follow; exiting without a clean close",
          file=sys.stderr, flush=True)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    os._exit(1)


def _info(home: Path) -> dict:
    from chain_client.chain.genesis import load_genesis
    from chain_client.chain.home import load_config, running_address
    from chain_client.chain.state import StateDB

    cfg = load_config(home)
    genesis = load_genesis(home / "config" / "genesis.json")
    height = None
    db_path = home / "data" / "chain.sqlite"
    if db_path.exists():
        db = StateDB(db_path, cfg.sqlite_synchronous)
        last = db.last_block()
        height = last.height if last else None
        db.close()
    running = running_address(home)
    return {
        "chain_id": cfg.chain_id,
        "denom": cfg.denom,
        "prefix": cfg.prefix,
        "gas_price": cfg.gas_price,
        "grpc": running or f"{cfg.grpc_host}:{cfg.grpc_port}",
        "running": running is not None,
        "height": height,
        "accounts": {a.name: a.address for a in genesis.accounts if a.name},
        "validators": {v.moniker or v.address: v.power for v in genesis.veid.validators},
    }


@chain.command()
@_home
@_json
def info(home: Path, as_json: bool) -> None:
    """Chain id, denom, prefix, gRPC address, height and the named accounts."""
    _echo(_info(home), as_json)


@chain.group()
def query() -> None:
    """Query the veid module of a running chain."""


def _client(home: Path, grpc_address: str | None):
    from chain_client.chain.home import load_config, running_address
    from chain_client.client import ChainClient

    cfg = load_config(home)
    address = grpc_address or running_address(home)
    if address is None:
        raise ChainError(f"{home}: no running node (start one with `veid chain start --home {home}`) and no --grpc")
    return ChainClient(address, cfg)


def _resolve(home: Path, who: str) -> str:
    accounts = _info(home)["accounts"]
    return accounts.get(who, who)


def _dict(msg) -> dict:
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


@query.command()
@_home
@_grpc
@_json
@click.argument("account")
def score(home: Path, grpc_address: str | None, as_json: bool, account: str) -> None:
    """Current score and tier of ACCOUNT (an address or a key name such as alice)."""
    record = _client(home, grpc_address).score(_resolve(home, account))
    _echo(_dict(record) if record is not None else {"found": False}, as_json)


@query.command()
@_home
@_grpc
@_json
@click.argument("account")
def attestations(home: Path, grpc_address: str | None, as_json: bool, account: str) -> None:
    """Attestations about ACCOUNT."""
    items = _client(home, grpc_address).attestations(_resolve(home, account))
    out = [{k: v for k, v in _dict(a).items() if k != "signed_attestation"} for a in items]
    _echo(out, as_json)


@query.command()
@_home
@_grpc
@_json
@click.argument("account")
def roles(home: Path, grpc_address: str | None, as_json: bool, account: str) -> None:
    """Roles and state of ACCOUNT."""
    _echo(_dict(_client(home, grpc_address).roles(_resolve(home, account))), as_json)


@query.command()
@_home
@_grpc
@_json
def clients(home: Path, grpc_address: str | None, as_json: bool) -> None:
    """Approved capture clients."""
    _echo([_dict(c) for c in _client(home, grpc_address).approved_clients()], as_json)


@query.command()
@_home
@_grpc
@_json
@click.argument("owner", required=False, default="")
def pending(home: Path, grpc_address: str | None, as_json: bool, owner: str) -> None:
    """Verification requests waiting for a quorum (of OWNER, or all)."""
    items = _client(home, grpc_address).pending_verifications(_resolve(home, owner) if owner else "")
    _echo([_dict(s) for s in items], as_json)
