"""Validator encryption keys (0600 in the home) and the file-based public key directory."""

from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

from attest.keys import AccountKey, X25519Key
from serving.keydir import FileKeyDirectory, create_encryption_key, load_encryption_key
from veid.errors import ConfigError


def test_key_file_private_and_reloadable(tmp_path):
    key = create_encryption_key(tmp_path / "home")
    path = tmp_path / "home" / "encryption.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
    assert load_encryption_key(tmp_path / "home").public_key_bytes == key.public_key_bytes
    assert key.private_key_bytes.hex() not in str(list((tmp_path / "home").iterdir()))
    with pytest.raises(ConfigError, match="refusing"):
        create_encryption_key(tmp_path / "home")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="owner only"):
        load_encryption_key(tmp_path / "home")
    with pytest.raises(ConfigError, match="no validator encryption key"):
        load_encryption_key(tmp_path / "nowhere")


def test_directory_publish_replace_and_select(tmp_path):
    d = FileKeyDirectory(tmp_path / "config" / "encryption_keys.json")
    assert d.recipients() == [] and d.get("x") is None
    addrs = sorted(AccountKey.generate().address for _ in range(3))
    keys = [X25519Key.generate() for _ in addrs]
    for a, k in zip(addrs, keys):
        d.publish(a, k.public_key())
    assert [r.public_bytes for r in d.recipients()] == [k.public_key_bytes for k in keys]
    assert [r.key_id for r in d.recipients(addrs[1:])] == [k.key_id for k in keys[1:]]
    new = X25519Key.generate()
    d.publish(addrs[0], new.public_key())
    assert d.get(addrs[0]).public_bytes == new.public_key_bytes and len(d.recipients()) == 3


def test_directory_rejects_tampered_file(tmp_path):
    d = FileKeyDirectory(tmp_path / "k.json")
    d.publish(AccountKey.generate().address, X25519Key.generate().public_key())
    text = (tmp_path / "k.json").read_text()
    (tmp_path / "k.json").write_text(text.replace('"key_id": "', '"key_id": "00', 1))
    with pytest.raises(ConfigError):
        d.recipients()


def _publish(args):
    path, i = args
    FileKeyDirectory(path).publish(f"validator-{i:02d}", X25519Key.generate().public_key())


def test_concurrent_publishers_lose_nothing(tmp_path):
    path = tmp_path / "k.json"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_publish, [(path, i) for i in range(12)])
    assert len(FileKeyDirectory(path).recipients()) == 12


def test_chain_directory_reads_genesis_keys_and_validator_init_adopts_them(tmp_path):
    import dataclasses

    from click.testing import CliRunner

    from chain_client.chain.genesis import load_genesis
    from chain_client.chain.home import init_home
    from chain_client.config import ChainConfig
    from serving.keydir import ChainKeyDirectory
    from veid.cli import cli

    chain_home = tmp_path / "chain"
    genesis = init_home(chain_home, dataclasses.replace(ChainConfig(), grpc_port=0))
    validators = list(load_genesis(chain_home / "config" / "genesis.json").veid.validators)

    class FakeClient:
        def validators(self):
            return validators

    directory = ChainKeyDirectory(FakeClient())
    keys = directory.recipients()
    assert len(keys) == len(genesis.veid.validators) == 3
    first = validators[0]
    assert directory.get(first.address).public_bytes == first.encryption_key
    assert directory.get("virtengine1unknown") is None

    vhome = tmp_path / "v0"
    result = CliRunner().invoke(cli, ["validator", "init", "--home", str(vhome), "--key", first.moniker,
                                      "--chain-home", str(chain_home)])
    assert result.exit_code == 0, result.output
    assert "on chain since genesis" in result.output
    assert load_encryption_key(vhome).public_key_bytes == first.encryption_key
    assert not (chain_home / "config" / "encryption_keys.json").exists()
