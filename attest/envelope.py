"""Signed multi-recipient envelopes: one random data key per envelope, wrapped to each recipient with HPKE.

Construction (version 1):

1. A fresh 256-bit data key ``K`` and a 96-bit nonce encrypt the payload with AES-256-GCM.
   The associated data is ``"veid/envelope/v1/payload" || SHA-256(header)``, and the header
   carries the context (scope type, subject, salt), so a ciphertext moved to another
   context, sender or recipient list no longer decrypts.
2. ``K`` is wrapped for each recipient with single-shot HPKE (RFC 9180, base mode):
   ``X25519`` = DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM;
   ``MLKEM768_X25519`` = the hybrid ML-KEM-768 + X25519 KEM / HKDF-SHA256 / AES-256-GCM.
   The HPKE ``info`` is ``"veid/envelope/v1/wrap" || SHA-256(header) || key_id``.
3. The sender signs ``"veid/envelope/v1/sig" || header || wrapped keys || SHA-256(ciphertext)``
   with Ed25519. Opening verifies this signature before anything else and fails closed.

Wire schema (see :mod:`attest.canonical` for the primitives)::

    header   = fixed(4) "VEN\\x00" | u8 version=1 | u16 suite | fixed(32) sender Ed25519 public key
               | str16 scope_type | str16 subject | bytes16 salt
               | u16 n (1..MAX_RECIPIENTS) | n x fixed(16) recipient key id | fixed(12) payload nonce
    envelope = header | n x bytes16 wrapped key | bytes32 ciphertext | fixed(64) signature
"""

from __future__ import annotations

import enum
import hashlib
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from attest.canonical import EncodingError, Reader, Writer
from attest.keys import (
    Ed25519Key,
    KemAlgorithm,
    RecipientPrivateKey,
    RecipientPublicKey,
    key_id,
    verify_ed25519,
)
from veid.errors import CryptoError

MAGIC = b"VEN\x00"
VERSION = 1
MAX_RECIPIENTS = 64
DATA_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_PAYLOAD_LABEL = b"veid/envelope/v1/payload"
_WRAP_LABEL = b"veid/envelope/v1/wrap"
_SIG_LABEL = b"veid/envelope/v1/sig"


class Suite(enum.IntEnum):
    """Envelope algorithm suites; the value is the wire identifier."""

    X25519 = 1
    MLKEM768_X25519 = 2

    @property
    def kem_algorithm(self) -> KemAlgorithm:
        return KemAlgorithm(int(self))

    def hpke_suite(self) -> hpke.Suite:
        kem = hpke.KEM.X25519 if self is Suite.X25519 else hpke.KEM.MLKEM768_X25519
        return hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

    @property
    def wrapped_key_bytes(self) -> int:
        """Length of one wrapped data key: HPKE encapsulation, encrypted key, tag."""
        kem = hpke.KEM.X25519 if self is Suite.X25519 else hpke.KEM.MLKEM768_X25519
        return kem.enc_length() + DATA_KEY_BYTES + TAG_BYTES


@dataclass(frozen=True)
class EnvelopeContext:
    """What the sealed payload is about; bound into the associated data.

    Attributes:
        scope_type: kind of data (for example ``"identity_upload"``, ``"order_details"``).
        subject: the account address the data concerns (never personal data).
        salt: random bytes chosen by the sender (0..255 bytes), also used for field commitments.
    """

    scope_type: str
    subject: str
    salt: bytes = b""

    def __post_init__(self) -> None:
        if not self.scope_type or len(self.scope_type.encode()) > 255 or len(self.subject.encode()) > 255:
            raise CryptoError("envelope scope_type must be 1..255 bytes and subject at most 255 bytes")
        if len(self.salt) > 255:
            raise CryptoError("envelope salt must be at most 255 bytes")


@dataclass(frozen=True)
class Envelope:
    """A sealed payload. Build with :func:`seal`; serialize with :meth:`to_bytes`."""

    suite: Suite
    sender_public_key: bytes
    context: EnvelopeContext
    recipient_key_ids: tuple[str, ...]
    nonce: bytes
    wrapped_keys: tuple[bytes, ...]
    ciphertext: bytes
    signature: bytes
    version: int = VERSION

    def header_bytes(self) -> bytes:
        """Canonical header (everything the payload AEAD and each key wrap are bound to)."""
        w = Writer().fixed(MAGIC, 4).u8(self.version).u16(int(self.suite)).fixed(self.sender_public_key, 32)
        w.str16(self.context.scope_type).str16(self.context.subject).bytes16(self.context.salt)
        w.u16(len(self.recipient_key_ids))
        for kid in self.recipient_key_ids:
            w.fixed(_kid_bytes(kid), 16)
        return w.fixed(self.nonce, NONCE_BYTES).getvalue()

    def signed_bytes(self) -> bytes:
        """The exact bytes the sender's Ed25519 signature covers."""
        w = Writer().fixed(_SIG_LABEL, len(_SIG_LABEL)).bytes32(self.header_bytes())
        for wrapped in self.wrapped_keys:
            w.bytes16(wrapped)
        return w.fixed(hashlib.sha256(self.ciphertext).digest(), 32).getvalue()

    def to_bytes(self) -> bytes:
        """Canonical serialization (the wire schema in the module docstring)."""
        w = Writer()
        for wrapped in self.wrapped_keys:
            w.bytes16(wrapped)
        w.u32(len(self.ciphertext))
        if len(self.signature) != 64:
            raise EncodingError("signature must be 64 bytes")
        # one join, so a large ciphertext is copied once
        return b"".join((self.header_bytes(), w.getvalue(), self.ciphertext, self.signature))

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical bytes, hex: how attestations commit to this envelope."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        """Parse canonical bytes strictly; no signature is checked here (see :func:`open_envelope`).

        Raises:
            EncodingError: truncated, trailing or malformed data.
            CryptoError: unknown magic, version or suite.
        """
        r = Reader(data)
        if r.fixed(4, "magic") != MAGIC:
            raise CryptoError("not a VEID envelope (bad magic)")
        version = r.u8("version")
        if version != VERSION:
            raise CryptoError(f"unsupported envelope version {version} (this build reads {VERSION})")
        suite_id = r.u16("suite")
        try:
            suite = Suite(suite_id)
        except ValueError:
            raise CryptoError(f"unknown envelope suite {suite_id}") from None
        sender = r.fixed(32, "sender public key")
        context = EnvelopeContext(r.str16("scope_type", 255), r.str16("subject", 255), r.bytes16("salt", 255))
        n = r.u16("recipient count")
        if not 1 <= n <= MAX_RECIPIENTS:
            raise EncodingError(f"recipient count {n} outside 1..{MAX_RECIPIENTS}")
        kids = tuple(r.fixed(16, "recipient key id").hex() for _ in range(n))
        nonce = r.fixed(NONCE_BYTES, "nonce")
        wrapped = tuple(r.bytes16("wrapped key") for _ in range(n))
        if any(len(x) != suite.wrapped_key_bytes for x in wrapped):
            raise EncodingError(f"wrapped keys must be {suite.wrapped_key_bytes} bytes for {suite.name}")
        ciphertext = r.bytes32("ciphertext")
        if len(ciphertext) < TAG_BYTES:
            raise EncodingError("ciphertext shorter than its authentication tag")
        signature = r.fixed(64, "signature")
        r.finish()
        return cls(suite, sender, context, kids, nonce, wrapped, ciphertext, signature, version)


def _kid_bytes(kid: str) -> bytes:
    try:
        raw = bytes.fromhex(kid)
    except ValueError:
        raise EncodingError(f"recipient key id is not hex: {kid!r}") from None
    if len(raw) != 16:
        raise EncodingError("recipient key id must be 16 bytes (32 hex characters)")
    return raw


def _wrap_info(header_digest: bytes, kid: str) -> bytes:
    return _WRAP_LABEL + header_digest + _kid_bytes(kid)


def seal(
    plaintext: bytes,
    recipients: Sequence[RecipientPublicKey],
    sender: Ed25519Key,
    context: EnvelopeContext,
    suite: Suite = Suite.X25519,
) -> Envelope:
    """Encrypt ``plaintext`` so that only ``recipients`` can read it, signed by ``sender``.

    Args:
        plaintext: payload bytes (at most 4 GiB minus the tag).
        recipients: 1..64 distinct public keys, all of the suite's algorithm.
        sender: the Ed25519 key that signs the envelope.
        context: scope type, subject and salt bound into the associated data.
        suite: :attr:`Suite.X25519` (default) or :attr:`Suite.MLKEM768_X25519` (post-quantum hybrid).

    Raises:
        CryptoError: no recipients, too many, duplicates, or a key of another algorithm.
    """
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise CryptoError(f"an envelope needs 1..{MAX_RECIPIENTS} recipients, got {len(recipients)}")
    if any(r.algorithm is not suite.kem_algorithm for r in recipients):
        raise CryptoError(f"every recipient key must be {suite.kem_algorithm.name} for suite {suite.name}")
    kids = tuple(r.key_id for r in recipients)
    if len(set(kids)) != len(kids):
        raise CryptoError("duplicate recipient keys")
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    draft = Envelope(suite, sender.public_key_bytes, context, kids, nonce, (), b"", b"\x00" * 64)
    header_digest = hashlib.sha256(draft.header_bytes()).digest()
    hpke_suite = suite.hpke_suite()
    wrapped = tuple(
        hpke_suite.encrypt(data_key, r.to_hpke(), info=_wrap_info(header_digest, r.key_id)) for r in recipients
    )
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _PAYLOAD_LABEL + header_digest)
    unsigned = Envelope(suite, sender.public_key_bytes, context, kids, nonce, wrapped, ciphertext, b"\x00" * 64)
    return Envelope(
        suite, sender.public_key_bytes, context, kids, nonce, wrapped, ciphertext, sender.sign(unsigned.signed_bytes())
    )


def verify_envelope(envelope: Envelope, trusted_senders: Collection[bytes | str] | None = None) -> None:
    """Check the sender's signature (and, if given, that the sender is trusted). Raises on failure.

    Args:
        envelope: the parsed envelope.
        trusted_senders: raw 32-byte Ed25519 public keys or their key ids (hex strings).
    """
    if trusted_senders is not None:
        sender_id = key_id(envelope.sender_public_key)
        trusted = {k if isinstance(k, str) else key_id(bytes(k)) for k in trusted_senders}
        if sender_id not in trusted:
            raise CryptoError(f"envelope sender {sender_id} is not trusted")
    verify_ed25519(envelope.sender_public_key, envelope.signed_bytes(), envelope.signature)


def open_envelope(
    envelope: Envelope | bytes,
    recipient_private: RecipientPrivateKey,
    expected_context: EnvelopeContext | None = None,
    trusted_senders: Collection[bytes | str] | None = None,
) -> bytes:
    """Verify and decrypt an envelope for one recipient; fails closed.

    Order: parse, verify the sender signature (and trust), check the context, find this
    recipient's wrapped key, unwrap it with HPKE, decrypt the payload.

    Args:
        envelope: an :class:`Envelope` or its canonical bytes.
        recipient_private: this recipient's private key (same algorithm as the suite).
        expected_context: if given, the envelope's context must equal it.
        trusted_senders: if given, Ed25519 public keys (raw bytes or key ids) one of which must have signed.
            Without it the signature proves integrity under the embedded key only.

    Raises:
        CryptoError: any failure (bad format, signature, untrusted sender, wrong context,
            not a recipient, tampered wrapped key or ciphertext).
    """
    env = Envelope.from_bytes(envelope) if isinstance(envelope, (bytes, bytearray, memoryview)) else envelope
    verify_envelope(env, trusted_senders)
    if expected_context is not None and env.context != expected_context:
        raise CryptoError("envelope context does not match the expected scope, subject or salt")
    if recipient_private.algorithm is not env.suite.kem_algorithm:
        raise CryptoError(f"recipient key is {recipient_private.algorithm.name}, envelope suite is {env.suite.name}")
    kid = recipient_private.key_id
    try:
        slot = env.recipient_key_ids.index(kid)
    except ValueError:
        raise CryptoError("this key is not a recipient of the envelope") from None
    header_digest = hashlib.sha256(env.header_bytes()).digest()
    try:
        data_key = env.suite.hpke_suite().decrypt(
            env.wrapped_keys[slot], recipient_private.to_hpke(), info=_wrap_info(header_digest, kid)
        )
        return AESGCM(data_key).decrypt(env.nonce, env.ciphertext, _PAYLOAD_LABEL + header_digest)
    except (InvalidTag, ValueError) as exc:
        raise CryptoError("envelope does not decrypt (wrapped key or ciphertext altered)") from exc
