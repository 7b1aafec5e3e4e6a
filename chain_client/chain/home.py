"""A chain home directory: create it (genesis, keys), open it, and run the node with its gRPC server.

Layout::

    HOME/config/chain.yaml     the ChainConfig the chain was created with
    HOME/config/genesis.json   the genesis file
    HOME/data/chain.sqlite     committed state, blocks and transactions (WAL)
    HOME/keys/NAME.mnemonic    local test keys (mode 0600)
    HOME/keys/validator-N.x25519  validators' envelope decryption keys, hex (mode 0600)
    HOME/node.json             while running: the gRPC address and pid
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import grpc
import yaml

from chain_client.chain.app import VeidApp
from chain_client.chain.genesis import Genesis, GenesisAccount, load_genesis, write_genesis
from chain_client.chain.grpc_server import serve
from chain_client.chain.node import Node
from chain_client.chain.state import StateDB
from chain_client.config import ChainConfig
from chain_client.gen.virtengine.veid.v1 import genesis_pb2
from chain_client.gen.virtengine.veid.v1 import types_pb2 as T
from cosmpy.aerial.wallet import LocalWallet
from cosmpy.mnemonic import entropy_to_mnemonic
from attest.keys import X25519Key
from veid.config import from_mapping, to_mapping
from veid.errors import ChainError

USERS = ("alice", "bob")
CLIENT = "client"
GENESIS_KEY = "genesis"


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def wallet(home: str | Path, name: str, prefix: str) -> LocalWallet:
    """The local test key ``name`` of a chain home.

    Raises:
        ChainError: no such key.
    """
    path = Path(home) / "keys" / f"{name}.mnemonic"
    try:
        mnemonic = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ChainError(f"{path}: no key named {name!r} ({exc.strerror})") from exc
    return LocalWallet.from_mnemonic(mnemonic, prefix=prefix)


def encryption_key(home: str | Path, name: str) -> X25519Key:
    """The envelope decryption key of validator ``name`` of a chain home.

    Raises:
        ChainError: no such key, or the file does not hold a 32-byte hex key.
    """
    path = Path(home) / "keys" / f"{name}.x25519"
    try:
        return X25519Key.from_bytes(bytes.fromhex(path.read_text(encoding="utf-8").strip()))
    except OSError as exc:
        raise ChainError(f"{path}: no encryption key named {name!r} ({exc.strerror})") from exc
    except ValueError as exc:
        raise ChainError(f"{path}: not a 32-byte hex X25519 key") from exc


def init_home(home: str | Path, cfg: ChainConfig, overwrite: bool = False) -> Genesis:
    """Create keys and a genesis: validator-0..N-1 (cfg.validator_power), alice, bob, a capture client, a genesis account.

    Raises:
        ChainError: the home already holds a chain and ``overwrite`` is False.
    """
    home = Path(home)
    if (home / "config" / "genesis.json").exists() and not overwrite:
        raise ChainError(f"{home}: already initialised (genesis.json exists)")
    if overwrite and (home / "data").exists():
        for f in (home / "data").iterdir():
            f.unlink()
    names = [GENESIS_KEY] + [f"validator-{i}" for i in range(len(cfg.validator_power))] + list(USERS) + [CLIENT]
    wallets: dict[str, LocalWallet] = {}
    for name in names:
        mnemonic = entropy_to_mnemonic(os.urandom(32))
        _write_atomic(home / "keys" / f"{name}.mnemonic", mnemonic + "\n", 0o600)
        wallets[name] = LocalWallet.from_mnemonic(mnemonic, prefix=cfg.prefix)
    os.chmod(home / "keys", 0o700)
    encryption_keys = {}
    for i in range(len(cfg.validator_power)):
        x25519 = X25519Key.generate()
        _write_atomic(home / "keys" / f"validator-{i}.x25519", x25519.private_key_bytes.hex() + "\n", 0o600)
        encryption_keys[f"validator-{i}"] = x25519.public_key_bytes
    addr = {n: str(w.address()) for n, w in wallets.items()}
    state = genesis_pb2.GenesisState(
        params=T.Params(
            quorum_tolerance=cfg.quorum_tolerance,
            quorum_threshold_num=cfg.quorum_threshold[0], quorum_threshold_den=cfg.quorum_threshold[1],
            tiers=[T.TierBound(name=n, min_score=s) for n, s in zip(cfg.tier_names, cfg.tier_min_scores)],
        ),
        genesis_account=addr[GENESIS_KEY],
        validators=[
            T.Validator(
                address=addr[f"validator-{i}"], power=p, moniker=f"validator-{i}",
                encryption_key=encryption_keys[f"validator-{i}"],
            )
            for i, p in enumerate(cfg.validator_power)
        ],
        accounts=[T.AccountRecord(address=addr[u], roles=[T.ROLE_CUSTOMER], state=T.ACCOUNT_STATE_ACTIVE) for u in USERS],
        approved_clients=[
            T.ApprovedClient(
                client_id=CLIENT, name="local capture client", algorithm="secp256k1",
                public_key=wallets[CLIENT].public_key().public_key_bytes, registered_by=addr[GENESIS_KEY],
            )
        ],
    )  # fmt: skip
    genesis = Genesis(
        chain_id=cfg.chain_id, genesis_time=datetime.now(timezone.utc).replace(microsecond=0), denom=cfg.denom,
        prefix=cfg.prefix, accounts=tuple(GenesisAccount(addr[n], cfg.initial_balance, n) for n in names), veid=state,
    )  # fmt: skip
    _write_atomic(home / "config" / "chain.yaml", yaml.safe_dump(to_mapping(cfg), sort_keys=False))
    write_genesis(genesis, home / "config" / "genesis.json")
    return genesis


def load_config(home: str | Path) -> ChainConfig:
    """The ChainConfig a home was created with."""
    path = Path(home) / "config" / "chain.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChainError(f"{path}: not a chain home ({exc.strerror}); run `veid chain init --home {home}`") from exc
    return from_mapping(ChainConfig, raw, source=str(path), where="chain")


@dataclass
class RunningNode:
    """A node serving gRPC: stop it with :meth:`stop`."""

    node: Node
    server: grpc.Server
    db: StateDB
    address: str
    home: Path

    def stop(self) -> None:
        """Stop the gRPC server and block production, close the database, remove node.json."""
        self.server.stop(grace=1.0).wait()
        self.node.stop()
        self.db.close()
        (self.home / "node.json").unlink(missing_ok=True)


def open_node(home: str | Path, grpc_port: int | None = None) -> RunningNode:
    """Open (and on first start, initialise from genesis) the chain in ``home`` and serve it.

    Args:
        home: chain home created by :func:`init_home`.
        grpc_port: port to bind (None: the config's; 0: any free port).

    Raises:
        ChainError, GenesisError: a missing or inconsistent home.
    """
    home = Path(home)
    cfg = load_config(home)
    genesis = load_genesis(home / "config" / "genesis.json")
    db = StateDB(home / "data" / "chain.sqlite", cfg.sqlite_synchronous)
    app = VeidApp(db, cfg.app_config())
    if app.last_block() is None:
        app.init_chain(genesis)
    node = Node(app, cfg.node_config())
    try:
        server, port = serve(node, cfg.grpc_host, cfg.grpc_port if grpc_port is None else grpc_port)
    except (OSError, RuntimeError) as exc:
        db.close()
        raise ChainError(f"cannot serve gRPC on {cfg.grpc_host}:{grpc_port}: {exc}") from exc
    node.start()
    address = f"{cfg.grpc_host}:{port}"
    _write_atomic(home / "node.json", json.dumps({"grpc": address, "pid": os.getpid()}) + "\n")
    return RunningNode(node, server, db, address, home)


def running_address(home: str | Path) -> str | None:
    """The gRPC address recorded by a running node, or None."""
    try:
        return json.loads((Path(home) / "node.json").read_text(encoding="utf-8"))["grpc"]
    except (OSError, ValueError, KeyError):
        return None


def spawn_node(home: str | Path, grpc_port: int = 0, timeout_s: float = 60.0, *,
               python_args: tuple[str, ...] = (), log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Run ``veid chain start --home HOME`` as a subprocess and wait until it serves; returns it and its address.

    Args:
        home: the chain home.
        grpc_port: port to serve on (0: a free loopback port).
        timeout_s: how long to wait for the node to serve.
        python_args: arguments put before ``-m veid.cli`` (e.g. a ``-c`` wrapper that ties the node to its parent).
        log: file for the node's output (default: a pipe, read back in the error message).

    Raises:
        ChainError: the node exited or did not serve within ``timeout_s``.
    """
    home = Path(home)
    (home / "node.json").unlink(missing_ok=True)
    out = open(log, "w") if log is not None else subprocess.PIPE  # noqa: SIM115 (the child owns it)
    proc = subprocess.Popen(
        [sys.executable, *python_args, "-m", "veid.cli", "chain", "start", "--home", str(home), "--grpc-port", str(grpc_port)],
        cwd=Path(__file__).resolve().parents[2], stdout=out, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            info = json.loads((home / "node.json").read_text(encoding="utf-8"))
            if info.get("pid") == proc.pid:
                return proc, info["grpc"]
        except (OSError, ValueError):
            pass
        if proc.poll() is not None:
            output = log.read_text()[-800:] if log is not None else (proc.stdout.read() if proc.stdout else "")
            raise ChainError(f"node exited with {proc.returncode}: {output}")
        time.sleep(0.05)
    proc.kill()
    raise ChainError(f"node in {home} did not serve within {timeout_s} s")
