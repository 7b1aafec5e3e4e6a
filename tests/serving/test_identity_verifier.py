"""IdentityVerifier on real models and synthetic captures: deterministic, catches a swapped portrait; attestations carry no personal data."""

from __future__ import annotations

import json

import pytest

from attest.attestation import verify_attestation
from attest.keys import AccountKey


@pytest.fixture(scope="module")
def verifier():
    from serving.verifier import IdentityVerifier, PipelineSettings

    return IdentityVerifier.load(PipelineSettings.from_params())


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    from training.synth import generate

    out = tmp_path_factory.mktemp("synth-verifier")
    generate(out, n=3, seed=3, progress=False, force=True)
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    return {r["id"]: ((out / r["image"]).read_bytes(), (out / r["selfie"]).read_bytes() if r["selfie"] else None, r)
            for r in rows}


@pytest.mark.slow
def test_deterministic_and_swapped_portrait(verifier, samples):
    doc, selfie, rec = samples["000002"]
    assert rec["label"]["genuine"]
    a = verifier.verify(doc, selfie, subject=AccountKey.generate().address, now_s=1_780_000_000)
    b = verifier.verify(doc, selfie, subject=a.subject, now_s=1_780_000_000)
    assert a.features == b.features and a.score == b.score and a.reason_codes == b.reason_codes
    assert a.fields == b.fields and a.face_distance == b.face_distance
    assert any(c.name == "face.match" and c.passed for c in a.checks)

    sdoc, sselfie, srec = samples["000001"]
    assert srec["label"]["negatives"] == ["swapped_portrait"]
    swapped = verifier.verify(sdoc, sselfie, subject=a.subject, now_s=1_780_000_000)
    assert any(c.name == "face.match" and not c.passed for c in swapped.checks)
    assert swapped.evidence.selfie is not None and not swapped.evidence.selfie.match
    assert swapped.score < a.score


@pytest.mark.slow
def test_undecodable_selfie_is_a_failed_check_not_a_crash(verifier, samples):
    doc, _, _ = samples["000002"]
    out = verifier.verify(doc, b"\xff\xd8\xff not really a jpeg", subject=AccountKey.generate().address)
    assert any(c.name == "face.selfie_decodable" and not c.passed for c in out.checks)
    assert out.evidence.selfie is None and 0 <= out.score <= 100


@pytest.mark.slow
def test_attestation_has_no_personal_data(verifier, samples):
    from serving.attestor import Attestor

    doc, selfie, rec = samples["000002"]
    user, validator = AccountKey.generate(), AccountKey.generate()
    outcome = verifier.verify(doc, selfie, subject=user.address)
    assert outcome.fields, "the document stage read no field"
    attestor = Attestor(validator, validity_days=365, clock=lambda: 1_790_000_000)
    salt = b"\x07" * 32
    signed = attestor(outcome, b"\x01" * 32, salt)
    verify_attestation(signed, validator.public_key_bytes)
    text = json.dumps(signed.to_dict())
    for name, value in outcome.fields:
        assert value not in text, f"{name} leaked into the attestation"
    for truth in rec["identity_data"].values():
        if isinstance(truth, str) and len(truth) >= 4:
            assert truth not in text
    assert signed.attestation.subject == user.address and signed.attestation.issuer == validator.address
    # The commitment binds the fields read: same inputs same commitment, another salt another one.
    assert attestor.evidence_commitment(outcome, b"\x01" * 32, salt) == signed.attestation.evidence_commitment
    assert attestor.evidence_commitment(outcome, b"\x01" * 32, b"\x08" * 32) != signed.attestation.evidence_commitment


@pytest.mark.slow
def test_turned_document_still_matches_its_selfie(verifier, samples):
    """The document's face comes from the upright portrait the document stage cut out, so a photo taken
    upside down or sideways is compared as well as an upright one (the whole-photo search missed them)."""
    import cv2
    import numpy as np

    doc, selfie, _ = samples["000002"]
    rgb = cv2.imdecode(np.frombuffer(doc, np.uint8), cv2.IMREAD_COLOR)
    upright = verifier.verify(doc, selfie, subject=AccountKey.generate().address, now_s=1_780_000_000)
    for k in (1, 2):
        turned = cv2.imencode(".png", np.ascontiguousarray(np.rot90(rgb, k)))[1].tobytes()
        out = verifier.verify(turned, selfie, subject=upright.subject, now_s=1_780_000_000)
        assert any(c.name == "face.match" and c.passed for c in out.checks), k
        assert out.face_distance == pytest.approx(upright.face_distance, abs=0.08)
