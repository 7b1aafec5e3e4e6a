"""Attestations: canonical bytes, signature, field tampering, issuer binding, evidence commitments."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attest.attestation import (
    SIGNING_DOMAIN,
    Attestation,
    AttestationStatus,
    ScopeSummary,
    SignedAttestation,
    commit_evidence,
    salted_field_hash,
    sign_attestation,
    verify_attestation,
)
from attest.keys import AccountKey
from veid.errors import CryptoError, InputError
from veid.types import ModelVersion

VALIDATOR = AccountKey.from_mnemonic("abandon " * 11 + "about")
SUBJECT = AccountKey.from_mnemonic("abandon " * 11 + "about", index=7).address


def _attestation(**overrides: object) -> Attestation:
    fields = dict(
        issuer=VALIDATOR.address, subject=SUBJECT, score=87, tier="verified",
        scopes=(ScopeSummary("document", True, 91), ScopeSummary("face", True, 84)),
        reason_codes=("mrz_checksum_ok", "face_match"),
        model_versions=(ModelVersion("craft", "a" * 64), ModelVersion("facenet", "b" * 64)),
        pipeline_version="0.1.0", evidence_commitment=commit_evidence([b"\x01" * 32], [b"\x02" * 32]),
        issued_at=1_700_000_000, expires_at=1_700_000_000 + 365 * 86400, nonce="0f" * 16,
    )  # fmt: skip
    fields.update(overrides)
    return Attestation(**fields)  # type: ignore[arg-type]


def test_sign_verify_and_json_roundtrip() -> None:
    signed = sign_attestation(_attestation(), VALIDATOR)
    verify_attestation(signed, VALIDATOR.public_key_bytes)
    again = SignedAttestation.from_dict(json.loads(json.dumps(signed.to_dict())))
    assert again == signed
    verify_attestation(again, VALIDATOR.public_key_bytes)


def test_canonical_bytes_are_sorted_compact_json() -> None:
    att = _attestation()
    raw = att.canonical_bytes()
    assert raw == json.dumps(att.to_dict(), sort_keys=True, separators=(",", ":")).encode()
    assert att.attestation_id == hashlib.sha256(raw).hexdigest()


ALTERED = {
    "subject": AccountKey.generate().address, "score": 86, "tier": "basic",
    "scopes": (ScopeSummary("document", False, 91), ScopeSummary("face", True, 84)),
    "reason_codes": ("mrz_checksum_ok",), "model_versions": (ModelVersion("craft", "c" * 64),),
    "pipeline_version": "0.1.1", "evidence_commitment": "0" * 64, "issued_at": 1_700_000_001,
    "expires_at": 1_800_000_000, "nonce": "1f" * 16, "status": AttestationStatus.EXPIRED,
}  # fmt: skip


@pytest.mark.parametrize("field", sorted(ALTERED))
def test_any_altered_field_is_rejected(field: str) -> None:
    signed = sign_attestation(_attestation(), VALIDATOR)
    forged = dataclasses.replace(signed, attestation=dataclasses.replace(signed.attestation, **{field: ALTERED[field]}))
    with pytest.raises(CryptoError):
        verify_attestation(forged, VALIDATOR.public_key_bytes)


def test_revocation_changes_signed_bytes() -> None:
    signed = sign_attestation(_attestation(), VALIDATOR)
    forged = dataclasses.replace(signed, attestation=signed.attestation.revoked("fraud"))
    with pytest.raises(CryptoError):
        verify_attestation(forged, VALIDATOR.public_key_bytes)
    verify_attestation(sign_attestation(signed.attestation.revoked("fraud"), VALIDATOR), VALIDATOR.public_key_bytes)


def test_flipped_signature_bytes_and_wrong_keys() -> None:
    signed = sign_attestation(_attestation(), VALIDATOR)
    for i in range(64):
        bad = bytearray(signed.signature)
        bad[i] ^= 0x04
        with pytest.raises(CryptoError):
            verify_attestation(dataclasses.replace(signed, signature=bytes(bad)), VALIDATOR.public_key_bytes)
    other = AccountKey.generate()
    with pytest.raises(CryptoError):
        verify_attestation(signed, other.public_key_bytes)
    # a key that is not the issuer's cannot sign for it, nor pass verification after swapping the key in
    with pytest.raises(CryptoError, match="issuer"):
        sign_attestation(_attestation(), other)
    resigned = SignedAttestation(signed.attestation, other.public_key_bytes,
                                 other.sign(SIGNING_DOMAIN + signed.attestation.canonical_bytes()))  # fmt: skip
    with pytest.raises(CryptoError, match="issuer"):
        verify_attestation(resigned, other.public_key_bytes)


def test_validation_of_fields() -> None:
    for bad in ({"score": 101}, {"score": 50.0}, {"score": True}, {"subject": "Jane Doe"}, {"issuer": "x"},
                {"expires_at": 1_700_000_000}, {"nonce": "zz"}, {"evidence_commitment": "ab"},
                {"tier": "has space"}, {"status": AttestationStatus.REVOKED}, {"revocation_reason": "x"}):  # fmt: skip
        with pytest.raises(InputError):
            _attestation(**bad)
    with pytest.raises(InputError):
        ScopeSummary("face", True, 120)


def test_effective_status() -> None:
    att = _attestation()
    assert att.effective_status(att.issued_at) is AttestationStatus.ACTIVE
    assert att.effective_status(att.expires_at) is AttestationStatus.EXPIRED
    assert att.revoked("fraud").effective_status(att.issued_at) is AttestationStatus.REVOKED


def test_from_dict_rejects_unknown_keys_and_type() -> None:
    raw = _attestation().to_dict()
    with pytest.raises(InputError):
        Attestation.from_dict({**raw, "extra": 1})
    with pytest.raises(InputError):
        Attestation.from_dict({**raw, "type": "veid.attestation/v2"})
    with pytest.raises(InputError):
        Attestation.from_dict({**raw, "scopes": [{"scope": "face"}]})


def test_commit_evidence() -> None:
    env = [hashlib.sha256(b"e1").digest(), hashlib.sha256(b"e2").digest()]
    salt = b"s" * 16
    fields = [salted_field_hash("last_name", "DOE", salt), salted_field_hash("first_name", "JANE", salt)]
    c = commit_evidence(env, fields)
    assert c == commit_evidence(list(reversed(env)), [f.hex() for f in reversed(fields)])  # order and hex/bytes free
    assert c != commit_evidence(env[:1], fields)
    assert c != commit_evidence(fields, env)  # the two lists are not interchangeable
    assert c != commit_evidence(env, [salted_field_hash("last_name", "DOE", b"t" * 16), fields[1]])
    with pytest.raises(InputError):
        commit_evidence([b"short"], [])
    with pytest.raises(CryptoError):
        salted_field_hash("x", "y", b"short")


_code = st.from_regex(r"\A[a-z0-9_]{1,12}\Z")


@settings(max_examples=50, deadline=None)
@given(score=st.integers(0, 100), tier=_code, reasons=st.lists(_code, max_size=4),
       scopes=st.lists(st.tuples(_code, st.booleans(), st.integers(0, 100)), max_size=4),
       pipeline=st.text(max_size=20), issued=st.integers(0, 2**40), span=st.integers(1, 2**31))  # fmt: skip
def test_canonical_roundtrip_property(score, tier, reasons, scopes, pipeline, issued, span) -> None:  # type: ignore[no-untyped-def]
    att = _attestation(score=score, tier=tier, reason_codes=tuple(reasons), pipeline_version=pipeline,
                       scopes=tuple(ScopeSummary(*s) for s in scopes), issued_at=issued, expires_at=issued + span)  # fmt: skip
    back = Attestation.from_dict(json.loads(att.canonical_bytes()))
    assert back == att
    assert back.canonical_bytes() == att.canonical_bytes()


def test_create_sets_expiry_and_fresh_nonce() -> None:
    kwargs = dict(issued_at=1_700_000_000, validity_days=30, evidence_commitment="ab" * 32)
    a = Attestation.create(VALIDATOR.address, SUBJECT, 50, "basic", **kwargs)  # type: ignore[arg-type]
    b = Attestation.create(VALIDATOR.address, SUBJECT, 50, "basic", **kwargs)  # type: ignore[arg-type]
    assert a.expires_at - a.issued_at == 30 * 86400 and a.status is AttestationStatus.ACTIVE
    assert a.nonce != b.nonce and a.attestation_id != b.attestation_id
