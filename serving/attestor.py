"""VerificationOutcome -> signed Attestation (no personal data) and the chain payload that carries it."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from attest.attestation import Attestation, ScopeSummary, SignedAttestation, commit_evidence, salted_field_hash, sign_attestation
from attest.keys import AccountKey
from chain_client.messages import AttestationPayload
from serving.verifier import PIPELINE_VERSION, VerificationOutcome


class Attestor:
    """``Attestor(key, validity_days)(outcome, envelope_hash, salt) -> SignedAttestation``.

    The subject is the account address; the evidence commitment is
    :func:`attest.attestation.commit_evidence` over the envelope hash and a salted hash of
    every document field read (the salt is the upload's, known only to the owner and the
    validators), so the attestation proves what was checked without revealing it.

    Args:
        key: the validator's secp256k1 account key (the issuer).
        validity_days: attestation lifetime (``attest.attestation_validity_days``).
        clock: Unix seconds (injectable).
    """

    def __init__(self, key: AccountKey, validity_days: int, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self.validity_days = validity_days
        self.clock = clock

    @property
    def address(self) -> str:
        return self.key.address

    def evidence_commitment(self, outcome: VerificationOutcome, envelope_hash: bytes, salt: bytes) -> str:
        """Commitment to the envelope and the salted document fields (64 hex)."""
        fields = [salted_field_hash(name, value, salt) for name, value in outcome.fields] if len(salt) >= 16 else []
        return commit_evidence([envelope_hash], fields)

    def __call__(self, outcome: VerificationOutcome, envelope_hash: bytes, salt: bytes) -> SignedAttestation:
        """Sign the outcome as an active attestation issued now."""
        att = Attestation.create(
            self.key.address, outcome.subject, outcome.score, outcome.tier,
            issued_at=int(self.clock()), validity_days=self.validity_days,
            scopes=[ScopeSummary(name, passed, score) for name, passed, score in outcome.scope_summaries()],
            reason_codes=outcome.reason_codes, model_versions=_unique(outcome.model_versions),
            pipeline_version=PIPELINE_VERSION, evidence_commitment=self.evidence_commitment(outcome, envelope_hash, salt),
        )  # fmt: skip
        return sign_attestation(att, self.key)


def payload_for(signed: SignedAttestation, scope_id: str) -> AttestationPayload:
    """The MsgSubmitAttestation payload answering request ``scope_id``."""
    return AttestationPayload.from_signed(signed, scope_id=scope_id)


def _unique(versions) -> list:
    seen, out = set(), []
    for v in versions:
        if (v.name, v.sha256) not in seen:
            seen.add((v.name, v.sha256))
            out.append(v)
    return out


def envelope_digest(envelope: bytes) -> bytes:
    """SHA-256 of the envelope bytes (what ``MsgUploadScope.envelope_hash`` holds)."""
    return hashlib.sha256(envelope).digest()
