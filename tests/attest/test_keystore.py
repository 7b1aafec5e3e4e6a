"""Keystore: encrypted at rest, mode 0600, wrong passphrase and tampered entries rejected."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from attest.config import KdfConfig
from attest.keys import AccountKey, Ed25519Key, MLKEM768X25519Key, X25519Key
from attest.keystore import Keystore
from veid.errors import CryptoError, InputError

FAST = KdfConfig(log2_n=10, r=8, p=1)  # tests only; params.yaml uses 2**17


@pytest.mark.parametrize("factory", [AccountKey.generate, Ed25519Key.generate, X25519Key.generate,
                                     MLKEM768X25519Key.generate])  # fmt: skip
def test_roundtrip_mode_and_no_plaintext(tmp_path: Path, factory) -> None:  # type: ignore[no-untyped-def]
    store = Keystore(tmp_path / "ks", FAST)
    key = factory()
    store.add("k1", key, "correct horse")
    path = tmp_path / "ks" / "k1.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "ks").stat().st_mode) == 0o700
    assert key.private_key_bytes.hex() not in path.read_text()
    loaded = store.load("k1", "correct horse")
    assert loaded.private_key_bytes == key.private_key_bytes
    assert [i.name for i in store.list()] == ["k1"]
    assert not list((tmp_path / "ks").glob(".tmp-*"))


def test_wrong_passphrase_rejected(tmp_path: Path) -> None:
    store = Keystore(tmp_path, FAST)
    store.add("v", AccountKey.generate(), "right")
    with pytest.raises(CryptoError, match="wrong passphrase"):
        store.load("v", "wrong")
    with pytest.raises(InputError):
        store.load("v", "")


@pytest.mark.parametrize("field,value", [("name", "other"), ("kind", "ed25519"), ("address", "virtengine1x"),
                                         ("public_key", "02" + "11" * 32)])  # fmt: skip
def test_tampered_metadata_rejected(tmp_path: Path, field: str, value: str) -> None:
    store = Keystore(tmp_path, FAST)
    store.add("v", AccountKey.generate(), "pw")
    path = tmp_path / "v.json"
    entry = json.loads(path.read_text())
    entry[field] = value
    path.write_text(json.dumps(entry))
    with pytest.raises(CryptoError):
        store.load("v", "pw")


def test_tampered_kdf_and_ciphertext_rejected(tmp_path: Path) -> None:
    store = Keystore(tmp_path, FAST)
    store.add("v", Ed25519Key.generate(), "pw")
    path = tmp_path / "v.json"
    original = path.read_text()
    entry = json.loads(original)
    entry["kdf"]["r"] = 4
    path.write_text(json.dumps(entry))
    with pytest.raises(CryptoError):
        store.load("v", "pw")
    entry = json.loads(original)
    ct = bytearray.fromhex(entry["cipher"]["ciphertext"])
    ct[0] ^= 1
    entry["cipher"]["ciphertext"] = ct.hex()
    path.write_text(json.dumps(entry))
    with pytest.raises(CryptoError):
        store.load("v", "pw")


def test_names_and_overwrite(tmp_path: Path) -> None:
    store = Keystore(tmp_path, FAST)
    store.add("v", Ed25519Key.generate(), "pw")
    with pytest.raises(InputError, match="exists"):
        store.add("v", Ed25519Key.generate(), "pw")
    with pytest.raises(InputError):
        store.add("../escape", Ed25519Key.generate(), "pw")
    with pytest.raises(InputError, match="no key"):
        store.info("missing")
