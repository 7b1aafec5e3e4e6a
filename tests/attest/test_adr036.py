"""ADR-036: a cosmjs-produced vector reproduced byte for byte, escaping, and rejections."""

from __future__ import annotations

import base64
import hashlib

import pytest

from attest.adr036 import serialize_sign_doc, sign_adr036, sign_bytes, verify_adr036
from attest.keys import SECP256K1_N, AccountKey
from veid.errors import CryptoError

# Vector produced by cosmjs 0.32 (makeSignDoc + serializeSignDoc, Secp256k1.createSignature), secret key
# SHA-256("18COSMOS/TEST/wallet/keplr-vector"), published in a public repository's test suite.
SECRET = hashlib.sha256(b"18COSMOS/TEST/wallet/keplr-vector").digest()
ADDRESS = "juno12gdmst084pz888ds7g80nv27p9wadknwdl783a"
PUBKEY_B64 = "Ai1R5vzeZFvF73ROli+IbV7OuNG7bM6HeI0rthBGJzvf"
SIGNATURE_B64 = "X5eMwfSS7VZsD4Z2Wb774JiwGp3HWosF1t0yx5umEAw5odNTctXpkEbf232OTK9D/pjz4keHOkaCXhn8AE45tg=="
TEXT = (
    "18COSMOS/WALLET-LINK/v1\nProject 18XX: link this wallet to your seat. This is not a transaction and moves no funds."
    "\nSite: https://play.example\nNetwork: uni-7\n"
    "Escrow contract: juno14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9skjuwg8\n"
    "Game: g_0000000000000000000000000w\nSeat: p-0000000000000000\n"
    "Wallet: juno12gdmst084pz888ds7g80nv27p9wadknwdl783a\nNonce: 00112233445566778899aabbccddeeff\n"
    "Expires: 2026-09-28T21:30:00.000Z"
)
DOC_PREFIX = (
    '{"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"","msgs":[{"type":"sign/MsgSignData",'
    '"value":{"data":"'
)


def test_cosmjs_vector_byte_for_byte() -> None:
    key = AccountKey(SECRET, prefix="juno")
    assert key.address == ADDRESS
    doc = sign_bytes(ADDRESS, TEXT.encode())
    data_b64 = base64.b64encode(TEXT.encode()).decode()
    assert doc == (DOC_PREFIX + data_b64 + '","signer":"' + ADDRESS + '"}}],"sequence":"0"}').encode()
    signed = sign_adr036(key, TEXT.encode(), ADDRESS)
    assert signed == {"pub_key": {"type": "tendermint/PubKeySecp256k1", "value": PUBKEY_B64}, "signature": SIGNATURE_B64}
    verify_adr036(ADDRESS, TEXT.encode(), {"pub_key": {"type": "tendermint/PubKeySecp256k1", "value": PUBKEY_B64},
                                           "signature": SIGNATURE_B64})  # fmt: skip


def test_cosmjs_escaping() -> None:
    assert serialize_sign_doc({"b": "<a&b>", "a": "é"}) == '{"a":"é","b":"\\u003ca\\u0026b\\u003e"}'.encode()


def test_rejections() -> None:
    key = AccountKey(SECRET, prefix="juno")
    good = sign_adr036(key, b"hello", ADDRESS)
    with pytest.raises(CryptoError):
        verify_adr036(ADDRESS, b"hellO", good)
    other = AccountKey.generate(prefix="juno")
    with pytest.raises(CryptoError, match="signer"):
        verify_adr036(other.address, b"hello", good)
    with pytest.raises(CryptoError, match="signer"):
        sign_adr036(key, b"hello", other.address)
    with pytest.raises(CryptoError, match="key type"):
        verify_adr036(ADDRESS, b"hello", {**good, "pub_key": {"type": "tendermint/PubKeyEd25519", "value": PUBKEY_B64}})
    with pytest.raises(CryptoError, match="malformed"):
        verify_adr036(ADDRESS, b"hello", {"signature": good["signature"]})
    with pytest.raises(CryptoError, match="malformed"):
        verify_adr036(ADDRESS, b"hello", {**good, "signature": "not base64!"})
    raw = base64.b64decode(good["signature"])
    high = raw[:32] + (SECP256K1_N - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    with pytest.raises(CryptoError, match="low-S"):
        verify_adr036(ADDRESS, b"hello", {**good, "signature": base64.b64encode(high).decode()})
