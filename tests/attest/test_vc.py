"""eddsa-jcs-2022: the W3C test vectors reproduced step by step, verification, tampering, attestation export."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from attest.attestation import Attestation, ScopeSummary, commit_evidence, sign_attestation
from attest.keys import AccountKey, Ed25519Key
from attest.multibase import decode_ed25519_private, decode_ed25519_public, encode_base58btc
from attest.vc import (
    add_proof,
    attestation_credential,
    did_key_verification_method,
    hash_data,
    proof_options,
    public_key_from_did_key,
    verify_proof,
)
from veid.errors import CryptoError


@pytest.fixture(scope="module")
def w3c(shared_data: Path) -> dict:
    root = shared_data / "w3c-eddsa-jcs-2022"
    d = root / "eddsa-jcs-2022"
    return {
        "keys": json.loads((root / "keyPair.json").read_text()),
        "unsigned": json.loads((root / "unsigned.json").read_text()),
        "proof_config": json.loads((d / "proofConfigJCS.json").read_text()),
        "proof_canon": (d / "proofCanonJCS.txt").read_bytes(),
        "proof_hash": (d / "proofHashJCS.txt").read_text().strip(),
        "doc_canon": (d / "canonDocJCS.txt").read_bytes(),
        "doc_hash": (d / "docHashJCS.txt").read_text().strip(),
        "combined": (d / "combinedHashJCS.txt").read_text().strip(),
        "sig_hex": (d / "sigHexJCS.txt").read_text().strip(),
        "sig_b58": (d / "sigBTC58JCS.txt").read_text().strip(),
        "signed": json.loads((d / "signedJCS.json").read_text()),
    }


def _key(w3c: dict) -> Ed25519Key:
    return Ed25519Key.from_bytes(decode_ed25519_private(w3c["keys"]["privateKeyMultibase"]))


def test_every_intermediate_matches_w3c(w3c: dict) -> None:
    key = _key(w3c)
    assert key.public_key_bytes == decode_ed25519_public(w3c["keys"]["publicKeyMultibase"])
    method = did_key_verification_method(key.public_key_bytes)
    options = proof_options(w3c["unsigned"], method, "2023-02-24T23:36:38Z")
    assert options == w3c["proof_config"]
    hashes = hash_data(w3c["unsigned"], options)
    assert hashes.proof_canonical == w3c["proof_canon"].rstrip(b"\n")
    assert hashes.document_canonical == w3c["doc_canon"].rstrip(b"\n")
    assert hashes.proof_hash.hex() == w3c["proof_hash"]
    assert hashes.document_hash.hex() == w3c["doc_hash"]
    assert hashes.combined.hex() == w3c["combined"]
    signature = key.sign(hashes.combined)
    assert signature.hex() == w3c["sig_hex"].lower()
    assert encode_base58btc(signature) == w3c["signed"]["proof"]["proofValue"]
    assert encode_base58btc(signature) == w3c["sig_b58"]


def test_add_proof_reproduces_signed_credential(w3c: dict) -> None:
    secured = add_proof(w3c["unsigned"], _key(w3c), created="2023-02-24T23:36:38Z")
    assert secured == w3c["signed"]
    assert "proof" not in w3c["unsigned"]  # the input is not modified


def test_verify_w3c_signed_and_resolve_did_key(w3c: dict) -> None:
    verify_proof(w3c["signed"])
    verify_proof(w3c["signed"], public_key=_key(w3c).public_key_bytes)
    with pytest.raises(CryptoError):
        verify_proof(w3c["signed"], public_key=Ed25519Key.generate().public_key_bytes)


@pytest.mark.parametrize(
    "path,value",
    [
        (("name",), "Alumni Credentiak"),
        (("credentialSubject", "alumniOf"), "Another School"),
        (("validFrom",), "2023-01-02T00:00:00Z"),
        (("proof", "created"), "2023-02-24T23:36:39Z"),
        (("proof", "proofPurpose"), "authentication"),
        (("proof", "@context"), ["https://www.w3.org/ns/credentials/v2"]),
    ],
)
def test_tampering_is_rejected(w3c: dict, path: tuple[str, ...], value: object) -> None:
    doc = copy.deepcopy(w3c["signed"])
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(CryptoError):
        verify_proof(doc)


def test_malformed_proofs(w3c: dict) -> None:
    for mutate in (
        lambda d: d.pop("proof"),
        lambda d: d["proof"].update(cryptosuite="eddsa-rdfc-2022"),
        lambda d: d["proof"].update(proofValue="u" + d["proof"]["proofValue"][1:]),
        lambda d: d["proof"].pop("proofValue"),
        lambda d: d["proof"].update(verificationMethod="https://example.org/key#1"),
        lambda d: d.update({"@context": ["https://www.w3.org/ns/credentials/v2"]}),
    ):
        doc = copy.deepcopy(w3c["signed"])
        mutate(doc)
        with pytest.raises(CryptoError):
            verify_proof(doc)


def test_created_must_be_a_datetime_stamp(w3c: dict) -> None:
    from veid.errors import InputError

    for bad in ("yesterday", "2023-02-24", "2023-02-24T23:36:38", "2023-02-30T00:00:00Z"):
        with pytest.raises(InputError):
            add_proof(w3c["unsigned"], _key(w3c), created=bad)


def test_did_key_roundtrip() -> None:
    key = Ed25519Key.generate()
    method = did_key_verification_method(key.public_key_bytes)
    assert method.startswith("did:key:z6Mk") and public_key_from_did_key(method) == key.public_key_bytes
    with pytest.raises(CryptoError):
        public_key_from_did_key(method.split("#")[0] + "#z6MkOther")


def test_attestation_credential_roundtrip() -> None:
    validator = AccountKey.generate()
    att = Attestation(validator.address, AccountKey.generate().address, 77, "verified",
                      (ScopeSummary("document", True, 80),), ("ok",), (), "0.1.0",
                      commit_evidence([hashlib.sha256(b"e").digest()], []), 1_700_000_000, 1_731_536_000)  # fmt: skip
    issuer_key = Ed25519Key.generate()
    cred = attestation_credential(sign_attestation(att, validator), did_key_verification_method(issuer_key.public_key_bytes))
    assert cred["validFrom"] == "2023-11-14T22:13:20Z" and cred["credentialSubject"]["score"] == 77
    secured = add_proof(cred, issuer_key)
    verify_proof(secured)
    secured["credentialSubject"]["score"] = 99
    with pytest.raises(CryptoError):
        verify_proof(secured)
