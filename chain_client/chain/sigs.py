"""Chain-side cryptography: bech32 addresses from public keys, secp256k1 (libsecp256k1) and Ed25519 signature checks."""

from __future__ import annotations

import hashlib

import functools

import bech32
import coincurve
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cosmpy.crypto.hashfuncs import ripemd160

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def address_from_pubkey(public_key: bytes, prefix: str) -> str:
    """Cosmos account address of a compressed secp256k1 key: bech32(prefix, ripemd160(sha256(key)))."""
    return bech32.bech32_encode(prefix, bech32.convertbits(ripemd160(hashlib.sha256(public_key).digest()), 8, 5, True))


@functools.lru_cache(maxsize=65536)
def valid_address(address: str, prefix: str) -> bool:
    """True for a well-formed bech32 account address (20 bytes) with ``prefix`` (memoised: a pure function)."""
    hrp, data = bech32.bech32_decode(address)
    if hrp != prefix or data is None:
        return False
    raw = bech32.convertbits(data, 5, 8, False)
    return raw is not None and len(raw) == 20


def verify_secp256k1(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify a Cosmos secp256k1 signature (64 bytes r||s, SHA-256, low-S required).

    Args:
        public_key: 33-byte compressed public key.
        message: the signed bytes (hashed with SHA-256 here).
        signature: 64 bytes, big-endian r then s.

    Returns:
        True only for a valid low-S signature; malformed keys or signatures give False.
    """
    if len(signature) != 64 or len(public_key) != 33:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < _SECP256K1_N and 0 < s <= _SECP256K1_N // 2):
        return False
    try:  # libsecp256k1 (coincurve): about 10x faster than OpenSSL's generic curve code
        return bool(coincurve.PublicKey(public_key).verify(encode_dss_signature(r, s), message, hasher=_sha256))
    except ValueError:
        return False


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify an Ed25519 signature; malformed input gives False."""
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (ValueError, InvalidSignature):
        return False
    return True


def verify(algorithm: str, public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Dispatch on ``algorithm`` (``secp256k1`` or ``ed25519``); unknown algorithms give False."""
    if algorithm == "secp256k1":
        return verify_secp256k1(public_key, message, signature)
    if algorithm == "ed25519":
        return verify_ed25519(public_key, message, signature)
    return False
