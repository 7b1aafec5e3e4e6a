"""W3C Verifiable Credentials 2.0 secured with Data Integrity proofs in the eddsa-jcs-2022 cryptosuite.

Algorithm (W3C vc-di-eddsa, section 3.3): canonicalize the proof options (with the
document's ``@context``) and the document without its proof by JCS (RFC 8785), hash each
with SHA-256, sign ``proofHash || documentHash`` with Ed25519, and store the signature as
multibase base58btc in ``proofValue``. Verification methods are ``did:key`` Ed25519 keys.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from attest.attestation import SignedAttestation
from attest.jcs import canonicalize
from attest.keys import Ed25519Key, verify_ed25519
from attest.multibase import decode_base58btc, decode_ed25519_public, encode_base58btc, encode_ed25519_public
from veid.errors import CryptoError, InputError

CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"
VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
_DATETIME_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class JcsHashes:
    """Every intermediate of the eddsa-jcs-2022 transformation and hashing steps."""

    proof_canonical: bytes
    proof_hash: bytes
    document_canonical: bytes
    document_hash: bytes

    @property
    def combined(self) -> bytes:
        """``proofHash || documentHash``: the 64 bytes that Ed25519 signs."""
        return self.proof_hash + self.document_hash


def did_key_verification_method(public_key: bytes) -> str:
    """``did:key:z6Mk...#z6Mk...`` for a 32-byte Ed25519 public key."""
    mb = encode_ed25519_public(public_key)
    return f"did:key:{mb}#{mb}"


def public_key_from_did_key(verification_method: str) -> bytes:
    """The Ed25519 public key named by a ``did:key`` verification method.

    Raises:
        CryptoError: not a did:key Ed25519 method, or fragment and DID disagree.
    """
    if not isinstance(verification_method, str) or not verification_method.startswith("did:key:"):
        raise CryptoError(f"only did:key verification methods can be resolved offline, got {verification_method!r}")
    did, _, fragment = verification_method[len("did:key:") :].partition("#")
    if fragment and fragment != did:
        raise CryptoError("did:key fragment does not match its key")
    return decode_ed25519_public(did)


def hash_data(unsecured_document: dict[str, Any], proof_options: dict[str, Any]) -> JcsHashes:
    """JCS-canonicalize and SHA-256 both inputs (transformation + hashing, eddsa-jcs-2022).

    Args:
        unsecured_document: the credential without ``proof``.
        proof_options: the proof without ``proofValue``; its ``@context`` is set by the caller.
    """
    proof_canonical = canonicalize(proof_options)
    document_canonical = canonicalize(unsecured_document)
    return JcsHashes(
        proof_canonical,
        hashlib.sha256(proof_canonical).digest(),
        document_canonical,
        hashlib.sha256(document_canonical).digest(),
    )


def _timestamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _checked_timestamp(text: str) -> str:
    """Accept an XML Schema dateTimeStamp (``2023-02-24T23:36:38Z`` or with an offset) unchanged."""
    if not _DATETIME_STAMP.match(text):
        raise InputError(f"created must be a date-time with a time zone, like 2023-02-24T23:36:38Z, got {text!r}")
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"created is not a valid date-time: {text!r}") from exc
    return text


def proof_options(
    document: dict[str, Any],
    verification_method: str,
    created: datetime | str,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Proof configuration: type, cryptosuite, created, method, purpose and the document's @context."""
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _checked_timestamp(created) if isinstance(created, str) else _timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if "@context" in document:
        options["@context"] = copy.deepcopy(document["@context"])
    return options


def add_proof(
    document: dict[str, Any],
    key: Ed25519Key,
    created: datetime | str | None = None,
    verification_method: str | None = None,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a copy of ``document`` secured with an eddsa-jcs-2022 proof.

    Args:
        document: an unsecured credential (a JSON object without ``proof``).
        key: the issuer's Ed25519 key.
        created: proof creation time (default: now, UTC, whole seconds).
        verification_method: default is the key's did:key method.
        proof_purpose: default ``assertionMethod``.

    Raises:
        InputError: the document is not an object or already carries a proof.
    """
    if not isinstance(document, dict) or "proof" in document:
        raise InputError("add_proof needs a JSON object without a 'proof' member")
    method = verification_method or did_key_verification_method(key.public_key_bytes)
    options = proof_options(document, method, created or datetime.now(timezone.utc), proof_purpose)
    signature = key.sign(hash_data(document, options).combined)
    secured = copy.deepcopy(document)
    secured["proof"] = {**options, "proofValue": encode_base58btc(signature)}
    return secured


def verify_proof(secured: dict[str, Any], public_key: bytes | None = None) -> None:
    """Verify an eddsa-jcs-2022 proof; returns nothing, raises :class:`CryptoError` on any failure.

    Args:
        secured: the secured credential.
        public_key: the issuer's 32-byte Ed25519 key; if omitted, the proof's did:key method is resolved.
    """
    if not isinstance(secured, dict) or not isinstance(secured.get("proof"), dict):
        raise CryptoError("document has no proof object")
    proof = secured["proof"]
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise CryptoError(f"proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if not isinstance(proof.get("proofValue"), str):
        raise CryptoError("proof has no proofValue")
    signature = decode_base58btc(proof["proofValue"])
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    document = {k: v for k, v in secured.items() if k != "proof"}
    if "@context" in options:
        proof_ctx, doc_ctx = _as_list(options["@context"]), _as_list(document.get("@context", []))
        if doc_ctx[: len(proof_ctx)] != proof_ctx:
            raise CryptoError("document @context does not start with the proof's @context")
        document["@context"] = options["@context"]
    method_key = public_key_from_did_key(proof.get("verificationMethod", "")) if public_key is None else public_key
    try:
        hashes = hash_data(document, options)
    except InputError as exc:
        raise CryptoError(f"credential cannot be canonicalized: {exc}") from exc
    verify_ed25519(method_key, hashes.combined, signature)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def attestation_credential(signed: SignedAttestation, issuer: str, credential_id: str | None = None) -> dict[str, Any]:
    """An unsecured VC 2.0 stating a signed attestation (score, tier, scopes; no personal data).

    Args:
        signed: the validator's signed attestation (its secp256k1 signature is carried along).
        issuer: the issuer's identifier, usually the did:key of the Ed25519 key that adds the proof.
        credential_id: default ``urn:veid:attestation:<attestation id>``.
    """
    att = signed.attestation
    issued = datetime.fromtimestamp(att.issued_at, timezone.utc)
    expires = datetime.fromtimestamp(att.expires_at, timezone.utc)
    return {
        "@context": [VC_CONTEXT_V2],
        "id": credential_id or f"urn:veid:attestation:{att.attestation_id}",
        "type": ["VerifiableCredential", "VeidIdentityAttestation"],
        "issuer": issuer,
        "validFrom": _timestamp(issued),
        "validUntil": _timestamp(expires),
        "credentialSubject": {
            "account": att.subject,
            "score": att.score,
            "tier": att.tier,
            "scopes": [{"scope": s.scope, "passed": s.passed, "score": s.score} for s in att.scopes],
            "reasonCodes": list(att.reason_codes),
        },
        "evidence": [
            {
                "type": ["VeidValidatorAttestation"],
                "attestationId": att.attestation_id,
                "validator": att.issuer,
                "evidenceCommitment": att.evidence_commitment,
                "status": att.status.value,
                "signedAttestation": signed.to_dict(),
            }
        ],
    }
