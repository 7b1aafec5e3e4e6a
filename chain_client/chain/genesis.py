"""The embedded chain's genesis file: load, validate (with errors that name the field) and write.

Layout (JSON)::

    {"chain_id": "virtengine-local-1", "genesis_time": "2026-01-01T00:00:00Z",
     "denom": "uve", "bech32_prefix": "virtengine",
     "accounts": [{"name": "alice", "address": "virtengine1...", "balance": "1000000"}],
     "app_state": {"veid": <virtengine.veid.v1.GenesisState as protobuf JSON>}}
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from chain_client.chain.keepers import DENOM_RE
from chain_client.chain.sigs import valid_address
from chain_client.gen.virtengine.veid.v1 import genesis_pb2
from chain_client.gen.virtengine.veid.v1 import types_pb2 as T
from veid.errors import ConfigError

CHAIN_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,47}$")
PREFIX_RE = re.compile(r"^[a-z]{1,20}$")


class GenesisError(ConfigError):
    """The genesis file is missing, malformed or inconsistent; the message names the field."""


@dataclass(frozen=True)
class GenesisAccount:
    """An account funded at genesis: bech32 address, base-unit balance and an optional local name."""

    address: str
    balance: int
    name: str = ""


@dataclass(frozen=True)
class Genesis:
    """A validated genesis: chain identity, funded accounts and the veid module state."""

    chain_id: str
    genesis_time: datetime
    denom: str
    prefix: str
    accounts: tuple[GenesisAccount, ...]
    veid: genesis_pb2.GenesisState

    def to_json(self) -> dict[str, Any]:
        """The JSON document this genesis is read from."""
        return {
            "chain_id": self.chain_id,
            "genesis_time": self.genesis_time.isoformat().replace("+00:00", "Z"),
            "denom": self.denom,
            "bech32_prefix": self.prefix,
            "accounts": [{"name": a.name, "address": a.address, "balance": str(a.balance)} for a in self.accounts],
            "app_state": {"veid": json_format.MessageToDict(self.veid, preserving_proto_field_name=True)},
        }


def _fail(source: str, where: str, problem: str) -> GenesisError:
    return GenesisError(f"{source}: {where}: {problem}")


def _need(raw: dict[str, Any], key: str, kind: type, source: str, where: str = "") -> Any:
    path = f"{where}.{key}" if where else key
    if key not in raw:
        raise _fail(source, path, "missing")
    value = raw[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _fail(source, path, f"must be {kind.__name__}, got {type(value).__name__}")
    return value


def parse_genesis(raw: Any, source: str = "<genesis>") -> Genesis:
    """Build and validate a :class:`Genesis` from its JSON document.

    Raises:
        GenesisError: naming the first offending field, e.g. ``accounts[1].address: ...``.
    """
    if not isinstance(raw, dict):
        raise _fail(source, "<top level>", "must be a JSON object")
    unknown = set(raw) - {"chain_id", "genesis_time", "denom", "bech32_prefix", "accounts", "app_state"}
    if unknown:
        raise _fail(source, sorted(unknown)[0], "unknown key")
    chain_id = _need(raw, "chain_id", str, source)
    if not CHAIN_ID_RE.match(chain_id):
        raise _fail(source, "chain_id", f"{chain_id!r} is not a valid chain id (letters, digits, . _ -; at most 48)")
    time_text = _need(raw, "genesis_time", str, source)
    try:
        genesis_time = datetime.fromisoformat(time_text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail(source, "genesis_time", f"{time_text!r} is not an ISO-8601 time") from exc
    denom = _need(raw, "denom", str, source)
    if not DENOM_RE.match(denom):
        raise _fail(source, "denom", f"{denom!r} is not a valid denomination (3-128 chars, starts with a letter)")
    prefix = _need(raw, "bech32_prefix", str, source)
    if not PREFIX_RE.match(prefix):
        raise _fail(source, "bech32_prefix", f"{prefix!r} must be 1-20 lower-case letters")

    accounts: list[GenesisAccount] = []
    seen: set[str] = set()
    for i, item in enumerate(_need(raw, "accounts", list, source)):
        where = f"accounts[{i}]"
        if not isinstance(item, dict):
            raise _fail(source, where, "must be an object")
        address = _need(item, "address", str, source, where)
        if not valid_address(address, prefix):
            raise _fail(source, f"{where}.address", f"{address!r} is not a bech32 address with prefix {prefix!r}")
        if address in seen:
            raise _fail(source, f"{where}.address", f"{address} is listed twice")
        seen.add(address)
        balance_text = str(item.get("balance", "0"))
        if not balance_text.isdigit():
            raise _fail(source, f"{where}.balance", f"{balance_text!r} must be a non-negative integer (base units)")
        accounts.append(GenesisAccount(address, int(balance_text), str(item.get("name", ""))))

    app_state = _need(raw, "app_state", dict, source)
    try:
        veid = json_format.ParseDict(_need(app_state, "veid", dict, source, "app_state"), genesis_pb2.GenesisState())
    except json_format.ParseError as exc:
        raise _fail(source, "app_state.veid", str(exc)) from exc
    _validate_veid(veid, prefix, seen, source)
    return Genesis(chain_id, genesis_time, denom, prefix, tuple(accounts), veid)


def _validate_veid(state: genesis_pb2.GenesisState, prefix: str, funded: set[str], source: str) -> None:
    where = "app_state.veid"
    if not valid_address(state.genesis_account, prefix):
        raise _fail(source, f"{where}.genesis_account", f"{state.genesis_account!r} is not a {prefix} address")
    if state.genesis_account not in funded:
        raise _fail(source, f"{where}.genesis_account", "must also be listed in accounts (it pays fees)")
    if not state.validators:
        raise _fail(source, f"{where}.validators", "at least one validator is required")
    seen: set[str] = set()
    for i, validator in enumerate(state.validators):
        at = f"{where}.validators[{i}]"
        if not valid_address(validator.address, prefix):
            raise _fail(source, f"{at}.address", f"{validator.address!r} is not a {prefix} address")
        if validator.address in seen:
            raise _fail(source, f"{at}.address", f"{validator.address} is listed twice")
        if validator.address not in funded:
            raise _fail(source, f"{at}.address", "must also be listed in accounts (it pays fees)")
        if validator.power <= 0:
            raise _fail(source, f"{at}.power", f"voting power must be positive, got {validator.power}")
        if validator.encryption_key and len(validator.encryption_key) != 32:
            raise _fail(source, f"{at}.encryption_key", "must be a 32-byte X25519 public key")
        seen.add(validator.address)
    for i, record in enumerate(state.accounts):
        at = f"{where}.accounts[{i}]"
        if not valid_address(record.address, prefix):
            raise _fail(source, f"{at}.address", f"{record.address!r} is not a {prefix} address")
        if T.ROLE_UNSPECIFIED in record.roles or T.ROLE_GENESIS_ACCOUNT in record.roles:
            raise _fail(source, f"{at}.roles", "ROLE_UNSPECIFIED and ROLE_GENESIS_ACCOUNT cannot be listed")
    for i, client in enumerate(state.approved_clients):
        at = f"{where}.approved_clients[{i}]"
        expected = {"secp256k1": 33, "ed25519": 32}.get(client.algorithm)
        if not client.client_id:
            raise _fail(source, f"{at}.client_id", "must not be empty")
        if expected is None or len(client.public_key) != expected:
            raise _fail(source, f"{at}.public_key", "must be a 33-byte secp256k1 or 32-byte ed25519 key")
    tolerance = state.params.quorum_tolerance
    if tolerance > 100:
        raise _fail(source, f"{where}.params.quorum_tolerance", f"must be 0-100, got {tolerance}")
    num, den = state.params.quorum_threshold_num, state.params.quorum_threshold_den
    if (num or den) and not 0 < num <= den:
        raise _fail(source, f"{where}.params.quorum_threshold_num", f"threshold {num}/{den} must be in (0, 1]")
    for i, bound in enumerate(state.params.tiers):
        if bound.min_score > 100 or not bound.name:
            raise _fail(source, f"{where}.params.tiers[{i}]", "needs a name and a min_score of 0-100")


def load_genesis(path: str | Path) -> Genesis:
    """Read and validate a genesis file.

    Raises:
        GenesisError: the file is unreadable, not JSON, or invalid (naming the field).
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GenesisError(f"{path}: cannot read genesis file ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise GenesisError(f"{path}: not valid JSON: {exc}") from exc
    return parse_genesis(raw, str(path))


def write_genesis(genesis: Genesis, path: str | Path) -> None:
    """Write ``genesis`` as JSON, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(genesis.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
