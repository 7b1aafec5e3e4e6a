"""Multibase base58btc (``z`` prefix) and the multicodec headers of Ed25519 keys used by did:key."""

from __future__ import annotations

import base58

from veid.errors import CryptoError

#: multicodec varint headers (ed25519-pub 0xed, ed25519-priv 0x1300).
ED25519_PUB_HEADER = b"\xed\x01"
ED25519_PRIV_HEADER = b"\x80\x26"


def encode_base58btc(data: bytes) -> str:
    """Multibase-encode bytes as base58btc: ``'z' + base58(data)``."""
    return "z" + base58.b58encode(data).decode("ascii")


def decode_base58btc(text: str) -> bytes:
    """Decode a ``z``-prefixed base58btc multibase string.

    Raises:
        CryptoError: the prefix is not ``z`` or the text is not base58.
    """
    if not isinstance(text, str) or not text.startswith("z") or len(text) < 2:
        raise CryptoError("multibase value must be base58btc with a 'z' prefix")
    try:
        return base58.b58decode(text[1:])
    except ValueError as exc:
        raise CryptoError(f"not base58btc: {exc}") from exc


def encode_ed25519_public(public_key: bytes) -> str:
    """did:key / Multikey form of a 32-byte Ed25519 public key (``z6Mk...``)."""
    if len(public_key) != 32:
        raise CryptoError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")
    return encode_base58btc(ED25519_PUB_HEADER + public_key)


def decode_ed25519_public(text: str) -> bytes:
    """Inverse of :func:`encode_ed25519_public`; checks the multicodec header and length."""
    raw = decode_base58btc(text)
    if raw[:2] != ED25519_PUB_HEADER or len(raw) != 34:
        raise CryptoError("not a multibase Ed25519 public key (expected ed25519-pub header and 32 bytes)")
    return raw[2:]


def encode_ed25519_private(seed: bytes) -> str:
    """Multikey form of a 32-byte Ed25519 private key seed."""
    if len(seed) != 32:
        raise CryptoError(f"Ed25519 private key must be 32 bytes, got {len(seed)}")
    return encode_base58btc(ED25519_PRIV_HEADER + seed)


def decode_ed25519_private(text: str) -> bytes:
    """Inverse of :func:`encode_ed25519_private`; checks the multicodec header and length."""
    raw = decode_base58btc(text)
    if raw[:2] != ED25519_PRIV_HEADER or len(raw) != 34:
        raise CryptoError("not a multibase Ed25519 private key (expected ed25519-priv header and 32 bytes)")
    return raw[2:]
