"""Keys: Cosmos address derivation against cosmpy and cosmjs, RFC 8032 / RFC 7748 vectors, signature rules."""

from __future__ import annotations

import hashlib

import pytest
from cosmpy.aerial.wallet import LocalWallet
from cosmpy.crypto.keypairs import PrivateKey
from cryptography.hazmat.primitives.asymmetric import x25519

from attest.keys import (
    SECP256K1_N,
    AccountKey,
    Ed25519Key,
    MLKEM768X25519Key,
    X25519Key,
    address_from_public_key,
    decode_address,
    key_id,
    verify_account_signature,
    verify_ed25519,
)
from veid.errors import CryptoError

ABANDON = "abandon " * 11 + "about"


@pytest.mark.parametrize("prefix", ["virtengine", "cosmos", "akash"])
def test_address_equals_cosmpy(prefix: str) -> None:
    key = AccountKey.from_mnemonic(ABANDON, prefix=prefix)
    wallet = LocalWallet.from_mnemonic(ABANDON, prefix=prefix)
    assert key.address == str(wallet.address())
    assert key.public_key_bytes == wallet.public_key().public_key_bytes


def test_cosmjs_published_address_for_test_mnemonic() -> None:
    # cosmjs documents this address for the 'abandon ... about' mnemonic at m/44'/118'/0'/0/0.
    assert AccountKey.from_mnemonic(ABANDON, prefix="cosmos").address == "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4"


def test_account_and_index_change_the_key() -> None:
    base = AccountKey.from_mnemonic(ABANDON)
    addresses = {base.address, AccountKey.from_mnemonic(ABANDON, index=1).address,
                 AccountKey.from_mnemonic(ABANDON, account=1).address}  # fmt: skip
    assert len(addresses) == 3
    # extra whitespace in a typed mnemonic does not change the key
    assert AccountKey.from_mnemonic("  " + ABANDON.replace(" ", "   ") + "\n").address == base.address


def test_bad_mnemonic_rejected() -> None:
    with pytest.raises(CryptoError, match="checksum"):
        AccountKey.from_mnemonic("abandon " * 12)
    with pytest.raises(CryptoError):
        AccountKey.from_mnemonic("abandon " * 11 + "notaword")


def test_generated_mnemonic_roundtrip() -> None:
    words = AccountKey.generate_mnemonic()
    assert len(words.split()) == 24
    assert AccountKey.from_mnemonic(words).address == str(LocalWallet.from_mnemonic(words, prefix="virtengine").address())


def test_signature_matches_cosmpy_and_verifies() -> None:
    key = AccountKey.from_mnemonic(ABANDON)
    for message in (b"", b"hello", bytes(range(256))):
        signature = key.sign(message)
        assert len(signature) == 64
        assert signature == PrivateKey(key.private_key_bytes).sign(message)  # both RFC 6979 deterministic
        assert int.from_bytes(signature[32:], "big") <= SECP256K1_N // 2
        verify_account_signature(key.public_key_bytes, message, signature)


def test_signature_rejections() -> None:
    key = AccountKey.generate()
    message = b"attest"
    signature = key.sign(message)
    high_s = signature[:32] + (SECP256K1_N - int.from_bytes(signature[32:], "big")).to_bytes(32, "big")
    with pytest.raises(CryptoError, match="low-S"):
        verify_account_signature(key.public_key_bytes, message, high_s)
    for i in range(64):
        bad = bytearray(signature)
        bad[i] ^= 0x01
        with pytest.raises(CryptoError):
            verify_account_signature(key.public_key_bytes, message, bytes(bad))
    with pytest.raises(CryptoError):
        verify_account_signature(AccountKey.generate().public_key_bytes, message, signature)
    with pytest.raises(CryptoError):
        verify_account_signature(key.public_key_bytes, message + b"!", signature)
    with pytest.raises(CryptoError):
        verify_account_signature(key.public_key_bytes, message, signature[:63])
    with pytest.raises(CryptoError):
        verify_account_signature(b"\x02" + b"\x00" * 32, message, signature)


def test_address_helpers() -> None:
    key = AccountKey.generate()
    prefix, account_id = decode_address(key.address)
    assert prefix == "virtengine" and len(account_id) == 20
    with pytest.raises(CryptoError):
        decode_address(key.address[:-1] + ("q" if key.address[-1] != "q" else "p"))
    with pytest.raises(CryptoError):
        address_from_public_key(key.public_key_bytes[1:])
    assert "private" not in repr(key) and key.private_key_bytes.hex() not in repr(key)


def test_rfc8032_test_1() -> None:
    key = Ed25519Key.from_bytes(bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
    assert key.public_key_bytes.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    expected = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert key.sign(b"") == expected
    verify_ed25519(key.public_key_bytes, b"", expected)
    with pytest.raises(CryptoError):
        verify_ed25519(key.public_key_bytes, b"x", expected)


def test_rfc7748_x25519_vector() -> None:
    alice = X25519Key.from_bytes(bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
    bob = X25519Key.from_bytes(bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
    assert alice.public_key_bytes.hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert bob.public_key_bytes.hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    shared = alice.to_hpke().exchange(x25519.X25519PublicKey.from_public_bytes(bob.public_key_bytes))
    assert shared.hex() == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"


def test_key_ids_and_hybrid_roundtrip() -> None:
    ed = Ed25519Key.generate()
    assert ed.key_id == hashlib.sha256(ed.public_key_bytes).hexdigest()[:32] == key_id(ed.public_key_bytes)
    hybrid = MLKEM768X25519Key.generate()
    again = MLKEM768X25519Key.from_bytes(hybrid.private_key_bytes)
    assert again.public_key_bytes == hybrid.public_key_bytes and len(hybrid.public_key_bytes) == 1216
    assert hybrid.public_key().key_id == hybrid.key_id
    with pytest.raises(CryptoError):
        Ed25519Key.from_bytes(b"\x00" * 31)
    with pytest.raises(CryptoError):
        AccountKey(b"\x00" * 32)
