"""Cosmos ADR-036 off-chain signatures: a StdSignDoc with one ``sign/MsgSignData``, serialized as cosmjs does.

The sign bytes are sorted, compact JSON with ``&``, ``<`` and ``>`` escaped as ``\\u0026``,
``\\u003c`` and ``\\u003e`` (cosmjs ``serializeSignDoc``), signed with secp256k1 over
SHA-256 (the same as Keplr's ``signArbitrary``). The result is a StdSignature mapping::

    {"pub_key": {"type": "tendermint/PubKeySecp256k1", "value": <base64 33 bytes>},
     "signature": <base64 64 bytes r || s>}
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from attest.keys import AccountKey, address_from_public_key, decode_address, verify_account_signature
from veid.errors import CryptoError

PUBKEY_TYPE = "tendermint/PubKeySecp256k1"


def make_sign_doc(signer_address: str, data: bytes) -> dict[str, Any]:
    """The ADR-036 StdSignDoc for ``data`` signed by ``signer_address``."""
    return {
        "chain_id": "",
        "account_number": "0",
        "sequence": "0",
        "fee": {"gas": "0", "amount": []},
        "msgs": [
            {"type": "sign/MsgSignData", "value": {"signer": signer_address, "data": base64.b64encode(data).decode()}}
        ],
        "memo": "",
    }


def serialize_sign_doc(sign_doc: dict[str, Any]) -> bytes:
    """cosmjs ``serializeSignDoc``: sorted compact JSON, ``&<>`` escaped, UTF-8."""
    text = json.dumps(sign_doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").encode("utf-8")


def sign_bytes(signer_address: str, data: bytes) -> bytes:
    """The exact bytes whose SHA-256 an ADR-036 signature covers."""
    return serialize_sign_doc(make_sign_doc(signer_address, data))


def sign_adr036(key: AccountKey, data: bytes, signer_address: str) -> dict[str, Any]:
    """Sign arbitrary ``data`` the way Keplr's ``signArbitrary`` does.

    Raises:
        CryptoError: ``signer_address`` is not the key's address under its own prefix.
    """
    prefix, _ = decode_address(signer_address)
    if address_from_public_key(key.public_key_bytes, prefix) != signer_address:
        raise CryptoError("signer address does not belong to the signing key")
    signature = key.sign(sign_bytes(signer_address, data))
    return {
        "pub_key": {"type": PUBKEY_TYPE, "value": base64.b64encode(key.public_key_bytes).decode()},
        "signature": base64.b64encode(signature).decode(),
    }


def verify_adr036(signer_address: str, data: bytes, signature_dict: dict[str, Any]) -> None:
    """Verify an ADR-036 StdSignature for ``data``; returns nothing, raises on any failure.

    Raises:
        CryptoError: wrong shape or key type, bad base64, a key that is not the signer's,
            or a signature that does not verify.
    """
    try:
        pub_key = signature_dict["pub_key"]
        if pub_key["type"] != PUBKEY_TYPE:
            raise CryptoError(f"unsupported ADR-036 key type {pub_key['type']!r}")
        public_key = base64.b64decode(pub_key["value"], validate=True)
        signature = base64.b64decode(signature_dict["signature"], validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise CryptoError(f"malformed ADR-036 signature: {exc}") from exc
    prefix, _ = decode_address(signer_address)
    if address_from_public_key(public_key, prefix) != signer_address:
        raise CryptoError("ADR-036 public key does not belong to the signer address")
    verify_account_signature(public_key, sign_bytes(signer_address, data), signature)
