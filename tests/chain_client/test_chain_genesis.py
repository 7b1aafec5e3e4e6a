"""Genesis validation names the offending field; a database refuses another chain's genesis."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from chain_client.chain.app import VeidApp
from chain_client.chain.genesis import GenesisError, load_genesis, parse_genesis
from chain_client.chain.home import init_home
from chain_client.chain.state import StateDB
from chain_client.config import ChainConfig
from veid.errors import ChainError, ConfigError

CFG = dataclasses.replace(ChainConfig(), grpc_port=0)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    home = tmp_path_factory.mktemp("genesis")
    init_home(home, CFG)
    return json.loads((home / "config" / "genesis.json").read_text())


def _broken(good, edit):
    raw = copy.deepcopy(good)
    edit(raw)
    return raw


CASES = [
    (lambda r: r.pop("chain_id"), "chain_id: missing"),
    (lambda r: r.update(chain_id="bad chain id!"), "chain_id: 'bad chain id!' is not a valid chain id"),
    (lambda r: r.update(extra=1), "extra: unknown key"),
    (lambda r: r.update(denom="u"), "denom: 'u' is not a valid denomination"),
    (lambda r: r.update(genesis_time="yesterday"), "genesis_time: 'yesterday' is not an ISO-8601 time"),
    (lambda r: r["accounts"][1].update(address="cosmos1xyz"), "accounts[1].address: 'cosmos1xyz' is not a bech32 address"),
    (lambda r: r["accounts"][2].update(address=r["accounts"][0]["address"]), "accounts[2].address: "),
    (lambda r: r["accounts"][0].update(balance="-5"), "accounts[0].balance: '-5' must be a non-negative integer"),
    (lambda r: r["app_state"]["veid"]["validators"][1].update(power="0"), "validators[1].power: voting power must be positive"),
    (lambda r: r["app_state"]["veid"]["validators"][0].update(encryption_key="AAAA"), "validators[0].encryption_key: must be a 32-byte"),
    (lambda r: r["app_state"]["veid"].update(validators=[]), "app_state.veid.validators: at least one validator"),
    (lambda r: r["app_state"]["veid"].update(genesis_account="nope"), "app_state.veid.genesis_account: 'nope'"),
    (lambda r: r["app_state"]["veid"]["approved_clients"][0].update(public_key="AAAA"), "approved_clients[0].public_key"),
    (lambda r: r["app_state"]["veid"].update(bogus=1), "app_state.veid: "),
    (lambda r: r["app_state"]["veid"]["params"].update(quorum_threshold_num=4), "params.quorum_threshold"),
]


@pytest.mark.parametrize("edit,message", CASES)
def test_invalid_genesis_names_the_field(good, edit, message):
    with pytest.raises(GenesisError) as info:
        parse_genesis(_broken(good, edit), "genesis.json")
    assert message in str(info.value)
    assert str(info.value).startswith("genesis.json: ")
    assert isinstance(info.value, ConfigError)


def test_validator_must_be_funded(good):
    raw = _broken(good, lambda r: r.update(accounts=[a for a in r["accounts"] if a["name"] != "validator-2"]))
    with pytest.raises(GenesisError, match=r"validators\[2\]\.address: must also be listed in accounts"):
        parse_genesis(raw, "g")


def test_good_genesis_round_trips(good):
    genesis = parse_genesis(good)
    assert genesis.to_json() == good
    assert [v.power for v in genesis.veid.validators] == list(CFG.validator_power)


def test_unreadable_files_are_clear(tmp_path):
    with pytest.raises(GenesisError, match="cannot read genesis file"):
        load_genesis(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(GenesisError, match="not valid JSON"):
        load_genesis(tmp_path / "bad.json")


def test_database_refuses_another_chain(tmp_path, good):
    db = StateDB(tmp_path / "chain.sqlite")
    app = VeidApp(db, CFG.app_config())
    app.init_chain(parse_genesis(good))
    with pytest.raises(ChainError, match="already initialised"):
        app.init_chain(parse_genesis(good))
    other = dataclasses.replace(CFG, chain_id="other-1")
    with pytest.raises(ChainError, match="belongs to chain 'virtengine-local-1'"):
        VeidApp(db, other.app_config())
    db.close()


def test_init_writes_validator_encryption_keys(tmp_path):
    from chain_client.chain.home import encryption_key

    genesis = init_home(tmp_path, CFG)
    for i, validator in enumerate(genesis.veid.validators):
        key_file = tmp_path / "keys" / f"validator-{i}.x25519"
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert encryption_key(tmp_path, f"validator-{i}").public_key_bytes == validator.encryption_key
    with pytest.raises(ChainError, match="no encryption key"):
        encryption_key(tmp_path, "alice")
