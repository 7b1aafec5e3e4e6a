"""Identity attestations: the record a validator signs, its canonical bytes, signature and evidence commitment.

The canonical encoding is RFC 8785 JSON of :meth:`Attestation.to_dict` (type tag
``veid.attestation/v1``). A validator signs ``"veid/attestation/v1\\n" || canonical bytes``
with its Cosmos secp256k1 account key; verification also checks that the issuer address
is the address of the verifying public key.
"""

from __future__ import annotations

import enum
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from attest.jcs import canonicalize
from attest.keys import AccountKey, address_from_public_key, decode_address, verify_account_signature
from veid.errors import CryptoError, InputError
from veid.types import ModelVersion

TYPE_TAG = "veid.attestation/v1"
SIGNING_DOMAIN = b"veid/attestation/v1\n"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NONCE = re.compile(r"^[0-9a-f]{32}$")
_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class AttestationStatus(enum.Enum):
    """Lifecycle of an attestation. A revoked one carries a reason."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ScopeSummary:
    """Outcome of one verification scope (document, face, liveness, ...), never the data itself."""

    scope: str
    passed: bool
    score: int

    def __post_init__(self) -> None:
        if not isinstance(self.passed, bool) or isinstance(self.score, bool) or not isinstance(self.score, int):
            raise InputError("scope summary needs passed: bool and an integer score")
        if not _CODE.match(self.scope) or not 0 <= self.score <= 100:
            raise InputError(f"scope summary needs a short code and a score 0..100, got {self.scope!r}/{self.score!r}")


@dataclass(frozen=True)
class Attestation:
    """What a validator states about an account.

    Attributes:
        issuer: the validator's bech32 account address.
        subject: the attested account's bech32 address (never personal data).
        score: identity score 0..100.
        tier: tier name derived from the score (for example ``"verified"``).
        scopes: per-scope outcomes.
        reason_codes: short codes explaining the score.
        model_versions: models that produced the score.
        pipeline_version: version of the pipeline code.
        evidence_commitment: :func:`commit_evidence` of the sealed evidence (64 hex).
        issued_at: Unix time, seconds, UTC.
        expires_at: Unix time, seconds, UTC; after ``issued_at``.
        nonce: 16 random bytes as 32 hex characters.
        status: active, revoked (with ``revocation_reason``) or expired.
        revocation_reason: why it was revoked; empty unless status is revoked.
    """

    issuer: str
    subject: str
    score: int
    tier: str
    scopes: tuple[ScopeSummary, ...]
    reason_codes: tuple[str, ...]
    model_versions: tuple[ModelVersion, ...]
    pipeline_version: str
    evidence_commitment: str
    issued_at: int
    expires_at: int
    nonce: str = field(default_factory=lambda: os.urandom(16).hex())
    status: AttestationStatus = AttestationStatus.ACTIVE
    revocation_reason: str = ""

    def __post_init__(self) -> None:
        for name in ("issuer", "subject"):
            try:
                decode_address(getattr(self, name))
            except CryptoError as exc:
                raise InputError(f"attestation {name} must be a bech32 account address") from exc
        if isinstance(self.score, bool) or not isinstance(self.score, int) or not 0 <= self.score <= 100:
            raise InputError(f"attestation score must be an integer 0..100, got {self.score!r}")
        if not _CODE.match(self.tier) or not all(_CODE.match(c) for c in self.reason_codes):
            raise InputError("tier and reason codes must be short codes ([A-Za-z0-9_.:-], 1..64 chars)")
        if not _HEX64.match(self.evidence_commitment) or not _NONCE.match(self.nonce):
            raise InputError("evidence_commitment must be 64 and nonce 32 lowercase hex characters")
        if not 0 <= self.issued_at < self.expires_at < 2**53:
            raise InputError("need 0 <= issued_at < expires_at (Unix seconds)")
        if (self.status is AttestationStatus.REVOKED) != bool(self.revocation_reason):
            raise InputError("a revocation reason is required for, and only for, a revoked attestation")

    def to_dict(self) -> dict[str, Any]:
        """JSON form (also the input of the canonical encoding)."""
        return {
            "type": TYPE_TAG,
            "issuer": self.issuer,
            "subject": self.subject,
            "score": self.score,
            "tier": self.tier,
            "scopes": [{"scope": s.scope, "passed": s.passed, "score": s.score} for s in self.scopes],
            "reason_codes": list(self.reason_codes),
            "model_versions": [{"name": m.name, "sha256": m.sha256} for m in self.model_versions],
            "pipeline_version": self.pipeline_version,
            "evidence_commitment": self.evidence_commitment,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "nonce": self.nonce,
            "status": self.status.value,
            "revocation_reason": self.revocation_reason,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Attestation:
        """Inverse of :meth:`to_dict`; rejects unknown or missing keys and a wrong type tag."""
        if not isinstance(raw, dict) or set(raw) != _KEYS or raw.get("type") != TYPE_TAG:
            raise InputError(f"not a {TYPE_TAG} record (keys or type tag differ)")
        try:
            return cls(
                issuer=raw["issuer"],
                subject=raw["subject"],
                score=raw["score"],
                tier=raw["tier"],
                scopes=tuple(ScopeSummary(s["scope"], s["passed"], s["score"]) for s in raw["scopes"]),
                reason_codes=tuple(raw["reason_codes"]),
                model_versions=tuple(ModelVersion(m["name"], m["sha256"]) for m in raw["model_versions"]),
                pipeline_version=raw["pipeline_version"],
                evidence_commitment=raw["evidence_commitment"],
                issued_at=raw["issued_at"],
                expires_at=raw["expires_at"],
                nonce=raw["nonce"],
                status=AttestationStatus(raw["status"]),
                revocation_reason=raw["revocation_reason"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed attestation record: {exc}") from exc

    @classmethod
    def create(
        cls,
        issuer: str,
        subject: str,
        score: int,
        tier: str,
        *,
        issued_at: int,
        validity_days: int,
        scopes: Sequence[ScopeSummary] = (),
        reason_codes: Sequence[str] = (),
        model_versions: Sequence[ModelVersion] = (),
        pipeline_version: str = "",
        evidence_commitment: str,
    ) -> Attestation:
        """A new active attestation with a fresh nonce, expiring ``validity_days`` after ``issued_at``.

        Args:
            issued_at: Unix time, seconds (injected so that callers and tests control the clock).
            validity_days: usually ``AttestConfig.attestation_validity_days``.
        """
        return cls(
            issuer=issuer, subject=subject, score=score, tier=tier, scopes=tuple(scopes),
            reason_codes=tuple(reason_codes), model_versions=tuple(model_versions), pipeline_version=pipeline_version,
            evidence_commitment=evidence_commitment, issued_at=issued_at, expires_at=issued_at + validity_days * 86400,
        )  # fmt: skip

    def canonical_bytes(self) -> bytes:
        """RFC 8785 canonical JSON of :meth:`to_dict`: the bytes that are signed and hashed."""
        return canonicalize(self.to_dict())

    @property
    def attestation_id(self) -> str:
        """SHA-256 of the canonical bytes, hex."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    def revoked(self, reason: str) -> Attestation:
        """A copy with status revoked (it must be signed again to be published)."""
        return replace(self, status=AttestationStatus.REVOKED, revocation_reason=reason)

    def effective_status(self, now: int) -> AttestationStatus:
        """Status at Unix time ``now``: revoked stays revoked, otherwise expired past ``expires_at``."""
        if self.status is AttestationStatus.ACTIVE and now >= self.expires_at:
            return AttestationStatus.EXPIRED
        return self.status


_KEYS = {
    "type", "issuer", "subject", "score", "tier", "scopes", "reason_codes", "model_versions", "pipeline_version",
    "evidence_commitment", "issued_at", "expires_at", "nonce", "status", "revocation_reason",
}  # fmt: skip


@dataclass(frozen=True)
class SignedAttestation:
    """An attestation with the issuer's secp256k1 signature and public key."""

    attestation: Attestation
    public_key: bytes
    signature: bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "attestation": self.attestation.to_dict(),
            "public_key": self.public_key.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SignedAttestation:
        if not isinstance(raw, dict) or set(raw) != {"attestation", "public_key", "signature"}:
            raise InputError("signed attestation needs exactly: attestation, public_key, signature")
        try:
            return cls(Attestation.from_dict(raw["attestation"]), bytes.fromhex(raw["public_key"]),
                       bytes.fromhex(raw["signature"]))  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise InputError(f"malformed signed attestation: {exc}") from exc


def sign_attestation(att: Attestation, key: AccountKey) -> SignedAttestation:
    """Sign with the issuer's account key.

    Raises:
        CryptoError: the key's address (with the issuer's prefix) is not the issuer.
    """
    prefix, _ = decode_address(att.issuer)
    if address_from_public_key(key.public_key_bytes, prefix) != att.issuer:
        raise CryptoError("signing key does not belong to the attestation issuer")
    return SignedAttestation(att, key.public_key_bytes, key.sign(SIGNING_DOMAIN + att.canonical_bytes()))


def verify_attestation(signed: SignedAttestation, public_key: bytes) -> None:
    """Verify the signature with ``public_key`` (the issuer's, from a trusted source). Raises on failure.

    Checks that ``public_key`` equals the embedded one, derives to the issuer address, and
    that the signature covers the canonical bytes. Expiry and revocation are not judged
    here (see :meth:`Attestation.effective_status`).

    Raises:
        CryptoError: any mismatch or a signature that does not verify.
    """
    if bytes(public_key) != signed.public_key:
        raise CryptoError("attestation was signed by another key")
    prefix, _ = decode_address(signed.attestation.issuer)
    if address_from_public_key(bytes(public_key), prefix) != signed.attestation.issuer:
        raise CryptoError("public key does not derive to the attestation issuer")
    verify_account_signature(public_key, SIGNING_DOMAIN + signed.attestation.canonical_bytes(), signed.signature)


def salted_field_hash(field_name: str, value: str, salt: bytes) -> bytes:
    """SHA-256 commitment to one personal field: ``H(len|name|len|value|salt)``; reveals nothing without the salt."""
    if len(salt) < 16:
        raise CryptoError("field commitments need a salt of at least 16 bytes")
    name, val = field_name.encode(), value.encode()
    return hashlib.sha256(
        b"veid/field/v1" + len(name).to_bytes(2, "big") + name + len(val).to_bytes(4, "big") + val + salt
    ).digest()


def commit_evidence(envelope_hashes: Sequence[bytes | str], salted_field_hashes: Sequence[bytes | str]) -> str:
    """Commitment to the evidence behind an attestation: SHA-256 over both sorted hash lists, hex.

    Each hash is 32 bytes (or 64 hex characters). Sorting makes the commitment independent
    of the order in which validators list the same evidence.

    Raises:
        InputError: a hash is not 32 bytes.
    """
    h = hashlib.sha256(b"veid/evidence/v1")
    for label, items in ((b"E", envelope_hashes), (b"F", salted_field_hashes)):
        raw = sorted(_hash32(x) for x in items)
        h.update(label + len(raw).to_bytes(4, "big") + b"".join(raw))
    return h.hexdigest()


def _hash32(value: bytes | str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else bytes(value)
    except ValueError:
        raise InputError(f"evidence hash is not hex: {value!r}") from None
    if len(raw) != 32:
        raise InputError(f"evidence hashes must be 32 bytes, got {len(raw)}")
    return raw
