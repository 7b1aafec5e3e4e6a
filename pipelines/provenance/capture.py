"""Build signed capture uploads as a mobile client would: files + client key + account key in, CaptureUpload out.

Wire format of the signed messages (every field length-prefixed with a big-endian u32,
see :mod:`attest.canonical`)::

    client_message = bytes32("veid/capture/client/v1") bytes32(u32 version) bytes32(salt)
                     bytes32(u64 captured_at_ms) bytes32(device_fingerprint) bytes32(payload_sha256)
                     bytes32(client_id) bytes32(client_public_key) bytes32(user_public_key)
    user_message   = bytes32("veid/capture/user/v1") bytes32(client_message) bytes32(client_signature)

The client also signs the user's public key: otherwise anyone who intercepted an upload
could re-sign it with their own account key and claim someone else's face.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import time
from dataclasses import dataclass
from typing import Any

from attest.canonical import Writer
from attest.keys import AccountKey, Ed25519Key
from veid.errors import InputError

UPLOAD_VERSION = 1
SALT_BYTES = 32
CLIENT_DOMAIN = b"veid/capture/client/v1"
USER_DOMAIN = b"veid/capture/user/v1"
PAYLOAD_DOMAIN = b"veid/capture/payload/v1"
MAX_ITEM_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class CaptureItem:
    """One captured file: its role (``selfie``, ``document_front``...), media type and bytes."""

    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class CaptureUpload:
    """A capture as uploaded: payload plus the signed provenance fields.

    Attributes:
        items: the captured files, in capture order.
        payload_sha256: :func:`payload_hash` of ``items`` (32 bytes).
        salt: fresh random bytes, never reused (32 bytes).
        captured_at_ms: capture time, Unix milliseconds (client clock).
        device_fingerprint: SHA-256 over the device attributes (32 bytes), see :func:`device_fingerprint`.
        client_id: the capture client's identifier in the approved-client registry.
        client_public_key: the client's Ed25519 public key (32 bytes).
        client_signature: Ed25519 over :func:`client_message` (64 bytes).
        user_public_key: the user's compressed secp256k1 account key (33 bytes).
        user_signature: secp256k1 ``r || s`` over :func:`user_message` (64 bytes).
        version: wire format version.
    """

    items: tuple[CaptureItem, ...]
    payload_sha256: bytes
    salt: bytes
    captured_at_ms: int
    device_fingerprint: bytes
    client_id: str
    client_public_key: bytes
    client_signature: bytes
    user_public_key: bytes
    user_signature: bytes
    version: int = UPLOAD_VERSION

    def item(self, name: str) -> CaptureItem:
        """The item called ``name``; raises InputError when absent."""
        for it in self.items:
            if it.name == name:
                return it
        raise InputError(f"upload has no item named {name!r} (has {[i.name for i in self.items]})")

    def to_json(self) -> str:
        """Serialise to JSON (binary fields base64)."""
        b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
        return json.dumps({
            "version": self.version,
            "items": [{"name": i.name, "media_type": i.media_type, "data": b64(i.data)} for i in self.items],
            "payload_sha256": self.payload_sha256.hex(),
            "salt": self.salt.hex(),
            "captured_at_ms": self.captured_at_ms,
            "device_fingerprint": self.device_fingerprint.hex(),
            "client_id": self.client_id,
            "client_public_key": self.client_public_key.hex(),
            "client_signature": self.client_signature.hex(),
            "user_public_key": self.user_public_key.hex(),
            "user_signature": self.user_signature.hex(),
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "CaptureUpload":
        """Parse :meth:`to_json` output.

        Raises:
            InputError: not JSON, a field missing or of the wrong type/encoding.
        """
        try:
            raw: Any = json.loads(text)
            items = tuple(
                CaptureItem(str(i["name"]), str(i["media_type"]), base64.b64decode(i["data"], validate=True))
                for i in raw["items"]
            )
            return cls(
                items=items,
                payload_sha256=bytes.fromhex(raw["payload_sha256"]),
                salt=bytes.fromhex(raw["salt"]),
                captured_at_ms=_int(raw["captured_at_ms"]),
                device_fingerprint=bytes.fromhex(raw["device_fingerprint"]),
                client_id=str(raw["client_id"]),
                client_public_key=bytes.fromhex(raw["client_public_key"]),
                client_signature=bytes.fromhex(raw["client_signature"]),
                user_public_key=bytes.fromhex(raw["user_public_key"]),
                user_signature=bytes.fromhex(raw["user_signature"]),
                version=_int(raw["version"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"malformed capture upload: {type(exc).__name__}: {exc}") from exc


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def payload_hash(items: tuple[CaptureItem, ...]) -> bytes:
    """SHA-256 over the length-prefixed (name, media type, SHA-256 of data) of each item, in order."""
    w = Writer().bytes32(PAYLOAD_DOMAIN).bytes32(struct.pack(">I", len(items)))
    for it in items:
        w.bytes32(it.name.encode("utf-8")).bytes32(it.media_type.encode("utf-8")).bytes32(hashlib.sha256(it.data).digest())
    return hashlib.sha256(w.getvalue()).digest()


def device_fingerprint(attributes: dict[str, str]) -> bytes:
    """SHA-256 over the sorted, length-prefixed ``key, value`` device attributes (model, OS, install id...)."""
    w = Writer()
    for key in sorted(attributes):
        w.bytes32(key.encode("utf-8")).bytes32(str(attributes[key]).encode("utf-8"))
    return hashlib.sha256(w.getvalue()).digest()


def client_message(upload: CaptureUpload) -> bytes:
    """The exact bytes the capture client signs (see the module docstring)."""
    return (
        Writer()
        .bytes32(CLIENT_DOMAIN)
        .bytes32(struct.pack(">I", upload.version))
        .bytes32(upload.salt)
        .bytes32(struct.pack(">Q", upload.captured_at_ms))
        .bytes32(upload.device_fingerprint)
        .bytes32(upload.payload_sha256)
        .bytes32(upload.client_id.encode("utf-8"))
        .bytes32(upload.client_public_key)
        .bytes32(upload.user_public_key)
        .getvalue()
    )


def user_message(upload: CaptureUpload) -> bytes:
    """The exact bytes the user's account key signs: the client message plus the client signature."""
    return Writer().bytes32(USER_DOMAIN).bytes32(client_message(upload)).bytes32(upload.client_signature).getvalue()


def media_type_of(data: bytes) -> str:
    """Sniff JPEG/PNG/WebP from magic bytes; ``application/octet-stream`` otherwise."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


class CaptureSigner:
    """The client side: ``CaptureSigner(client_id, client_key, fingerprint).sign(items, account) -> CaptureUpload``.

    Args:
        client_id: the client's identifier in the approved-client registry.
        client_key: the client's Ed25519 key (on a phone: kept in the secure enclave).
        fingerprint: the device fingerprint (32 bytes, :func:`device_fingerprint`).
        clock: returns the current Unix time in seconds (injectable for tests).
    """

    def __init__(self, client_id: str, client_key: Ed25519Key, fingerprint: bytes, clock=time.time) -> None:
        if len(fingerprint) != 32:
            raise InputError(f"device fingerprint must be 32 bytes, got {len(fingerprint)}")
        self.client_id = client_id
        self._client_key = client_key
        self.fingerprint = fingerprint
        self._clock = clock

    def sign(self, items: tuple[CaptureItem, ...], account: AccountKey) -> CaptureUpload:
        """Hash the payload, draw a fresh salt, sign as the client, then as the user.

        Raises:
            InputError: no items, an empty or oversized item, or duplicate item names.
        """
        if not items:
            raise InputError("a capture needs at least one item")
        names = [i.name for i in items]
        if len(set(names)) != len(names):
            raise InputError(f"duplicate item names in capture: {names}")
        for it in items:
            if not it.data or len(it.data) > MAX_ITEM_BYTES:
                raise InputError(f"item {it.name!r} is empty or larger than {MAX_ITEM_BYTES} bytes")
        unsigned = CaptureUpload(
            items=tuple(items),
            payload_sha256=payload_hash(tuple(items)),
            salt=os.urandom(SALT_BYTES),
            captured_at_ms=int(round(self._clock() * 1000)),
            device_fingerprint=self.fingerprint,
            client_id=self.client_id,
            client_public_key=self._client_key.public_key_bytes,
            client_signature=b"",
            user_public_key=account.public_key_bytes,
            user_signature=b"",
        )
        client_signed = _replace(unsigned, client_signature=self._client_key.sign(client_message(unsigned)))
        return _replace(client_signed, user_signature=account.sign(user_message(client_signed)))


def _replace(upload: CaptureUpload, **changes: Any) -> CaptureUpload:
    from dataclasses import replace

    return replace(upload, **changes)
