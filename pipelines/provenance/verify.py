"""Verify a capture upload: payload hash, approved client, both signatures, freshness, salt never reused."""

from __future__ import annotations

import enum
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from attest.keys import verify_account_signature, verify_ed25519
from pipelines.provenance.capture import (
    SALT_BYTES,
    UPLOAD_VERSION,
    CaptureUpload,
    client_message,
    payload_hash,
    user_message,
)
from pipelines.provenance.registry import ApprovedClientRegistry
from pipelines.provenance.salt_store import SaltStore
from veid.errors import CryptoError
from veid.types import CheckResult


class ProvenanceFailure(str, enum.Enum):
    """Why an upload was rejected: one reason per failure, checked in this order."""

    MALFORMED = "malformed"
    PAYLOAD_HASH_MISMATCH = "payload_hash_mismatch"
    UNAPPROVED_CLIENT = "unapproved_client"
    WRONG_CLIENT_KEY = "wrong_client_key"
    CLIENT_SIGNATURE_INVALID = "client_signature_invalid"
    USER_SIGNATURE_INVALID = "user_signature_invalid"
    STALE_TIMESTAMP = "stale_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    SALT_REUSED = "salt_reused"


@dataclass(frozen=True)
class ProvenanceConfig:
    """The ``provenance`` section of params.yaml.

    Attributes:
        max_age_s: an upload captured longer ago than this (seconds) is stale.
        max_clock_skew_s: how far in the future (seconds) a capture timestamp may lie.
        salt_db: SQLite file of claimed salts, relative to the working directory.
    """

    max_age_s: float = 300.0
    max_clock_skew_s: float = 30.0
    salt_db: str = "data/work/capture_salts.sqlite"


@dataclass(frozen=True)
class ProvenanceResult:
    """The verdict: ``accepted`` or the first ``failure`` found, with a readable reason."""

    accepted: bool
    failure: ProvenanceFailure | None
    reason: str

    @property
    def check(self) -> CheckResult:
        """As a pipeline check named ``capture.provenance``."""
        return CheckResult("capture.provenance", self.accepted, 1.0 if self.accepted else 0.0, self.reason)


class ProvenanceError(CryptoError):
    """An upload failed provenance; ``failure`` says which check."""

    def __init__(self, failure: ProvenanceFailure, reason: str) -> None:
        super().__init__(f"{failure.value}: {reason}")
        self.failure = failure


class ProvenanceVerifier:
    """``ProvenanceVerifier(cfg, registry, salt_store, clock).verify(upload) -> ProvenanceResult``.

    The salt is claimed only when every other check passed, so a forged upload cannot burn
    a genuine client's salt.

    Args:
        cfg: freshness window.
        registry: approved capture clients.
        salt_store: replay store.
        clock: current Unix time in seconds (injectable).
    """

    def __init__(self, cfg: ProvenanceConfig, registry: ApprovedClientRegistry, salt_store: SaltStore,
                 clock: Callable[[], float] = time.time) -> None:
        self.cfg = cfg
        self.registry = registry
        self.salt_store = salt_store
        self.clock = clock

    def verify(self, upload: CaptureUpload) -> ProvenanceResult:
        """Run every check; claims the salt on success."""
        failure = self._first_failure(upload)
        if failure is not None:
            return ProvenanceResult(False, failure[0], failure[1])
        if not self.salt_store.claim(upload.salt, upload.captured_at_ms, upload.client_id):
            return ProvenanceResult(False, ProvenanceFailure.SALT_REUSED, "this upload's salt was used before (replay)")
        return ProvenanceResult(True, None, "")

    def verify_or_raise(self, upload: CaptureUpload) -> None:
        """Like :meth:`verify` but raises :class:`ProvenanceError` on rejection."""
        result = self.verify(upload)
        if not result.accepted:
            assert result.failure is not None
            raise ProvenanceError(result.failure, result.reason)

    def _first_failure(self, u: CaptureUpload) -> tuple[ProvenanceFailure, str] | None:
        F = ProvenanceFailure
        if u.version != UPLOAD_VERSION:
            return F.MALFORMED, f"unsupported upload version {u.version}"
        sizes = ((u.salt, SALT_BYTES, "salt"), (u.device_fingerprint, 32, "device fingerprint"),
                 (u.payload_sha256, 32, "payload hash"), (u.client_public_key, 32, "client public key"),
                 (u.client_signature, 64, "client signature"), (u.user_public_key, 33, "user public key"),
                 (u.user_signature, 64, "user signature"))
        for value, size, what in sizes:
            if len(value) != size:
                return F.MALFORMED, f"{what} must be {size} bytes, got {len(value)}"
        if not u.items:
            return F.MALFORMED, "upload carries no items"
        if not hmac.compare_digest(payload_hash(u.items), u.payload_sha256):
            return F.PAYLOAD_HASH_MISMATCH, "payload does not match the signed payload hash (swapped or altered files)"
        client = self.registry.get(u.client_id)
        if client is None or client.revoked:
            return F.UNAPPROVED_CLIENT, f"capture client {u.client_id!r} is not in the approved-client registry"
        if not hmac.compare_digest(client.public_key, u.client_public_key):
            return F.WRONG_CLIENT_KEY, f"upload names a key that is not the registered key of client {u.client_id!r}"
        try:
            verify_ed25519(client.public_key, client_message(u), u.client_signature)
        except CryptoError:
            return F.CLIENT_SIGNATURE_INVALID, "the capture client's signature does not verify under its registered key"
        try:
            verify_account_signature(u.user_public_key, user_message(u), u.user_signature)
        except CryptoError:
            return F.USER_SIGNATURE_INVALID, "the user's account signature does not cover this capture"
        now_ms = self.clock() * 1000.0
        age_s = (now_ms - u.captured_at_ms) / 1000.0
        if age_s > self.cfg.max_age_s:
            return F.STALE_TIMESTAMP, f"captured {age_s:.0f} s ago, at most {self.cfg.max_age_s:.0f} s allowed"
        if -age_s > self.cfg.max_clock_skew_s:
            return F.FUTURE_TIMESTAMP, f"capture time lies {-age_s:.0f} s in the future (skew at most {self.cfg.max_clock_skew_s:.0f} s)"
        return None
