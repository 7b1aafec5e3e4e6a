"""Capture uploads: round trip, and every provenance failure rejected with its own reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from attest.keys import AccountKey, Ed25519Key
from pipelines.provenance.capture import (
    CaptureItem,
    CaptureSigner,
    CaptureUpload,
    client_message,
    device_fingerprint,
    user_message,
)
from pipelines.provenance.registry import ApprovedClient, InMemoryClientRegistry, JsonFileClientRegistry
from pipelines.provenance.salt_store import SaltStore
from pipelines.provenance.verify import ProvenanceConfig, ProvenanceError, ProvenanceFailure, ProvenanceVerifier
from veid.errors import InputError

NOW = 1_790_000_000.0
MNEMONIC = ("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture()
def world(tmp_path):
    client_key = Ed25519Key.generate()
    registry = InMemoryClientRegistry((ApprovedClient("veid-ios-1.0", client_key.public_key_bytes, "VEID iOS"),))
    clock = Clock(NOW)
    fp = device_fingerprint({"model": "Pixel 8", "os": "Android 15", "install_id": "42"})
    signer = CaptureSigner("veid-ios-1.0", client_key, fp, clock=lambda: NOW - 2.0)
    verifier = ProvenanceVerifier(ProvenanceConfig(max_age_s=300, max_clock_skew_s=30), registry,
                                  SaltStore(tmp_path / "salts.sqlite"), clock)
    account = AccountKey.from_mnemonic(MNEMONIC)
    items = (CaptureItem("selfie", "image/jpeg", b"\xff\xd8\xff selfie bytes"),
             CaptureItem("document_front", "image/jpeg", b"\xff\xd8\xff document bytes"))
    return {"signer": signer, "verifier": verifier, "account": account, "items": items, "clock": clock,
            "client_key": client_key, "registry": registry}


def _reason(world, upload):
    result = world["verifier"].verify(upload)
    assert not result.accepted and result.reason
    return result.failure


def test_genuine_upload_is_accepted_and_round_trips_json(world):
    upload = world["signer"].sign(world["items"], world["account"])
    again = CaptureUpload.from_json(upload.to_json())
    assert again == upload
    result = world["verifier"].verify(again)
    assert result.accepted and result.failure is None and result.check.passed


def test_reused_salt_is_rejected(world):
    upload = world["signer"].sign(world["items"], world["account"])
    assert world["verifier"].verify(upload).accepted
    assert _reason(world, upload) is ProvenanceFailure.SALT_REUSED
    with pytest.raises(ProvenanceError) as err:
        world["verifier"].verify_or_raise(upload)
    assert err.value.failure is ProvenanceFailure.SALT_REUSED


def test_fresh_salts_differ(world):
    a = world["signer"].sign(world["items"], world["account"])
    b = world["signer"].sign(world["items"], world["account"])
    assert a.salt != b.salt


def test_swapped_payload_is_rejected(world):
    upload = world["signer"].sign(world["items"], world["account"])
    swapped = (CaptureItem("selfie", "image/jpeg", b"\xff\xd8\xff someone else"), upload.items[1])
    assert _reason(world, replace(upload, items=swapped)) is ProvenanceFailure.PAYLOAD_HASH_MISMATCH


def test_unapproved_client_is_rejected(world):
    rogue = CaptureSigner("rogue-app", Ed25519Key.generate(), world["signer"].fingerprint, clock=lambda: NOW)
    upload = rogue.sign(world["items"], world["account"])
    assert _reason(world, upload) is ProvenanceFailure.UNAPPROVED_CLIENT


def test_revoked_client_is_unapproved(world):
    upload = world["signer"].sign(world["items"], world["account"])
    world["registry"].add(ApprovedClient("veid-ios-1.0", world["client_key"].public_key_bytes, revoked=True))
    assert _reason(world, upload) is ProvenanceFailure.UNAPPROVED_CLIENT


def test_wrong_client_key_claiming_an_approved_id_is_rejected(world):
    impostor = CaptureSigner("veid-ios-1.0", Ed25519Key.generate(), world["signer"].fingerprint, clock=lambda: NOW)
    upload = impostor.sign(world["items"], world["account"])
    assert _reason(world, upload) is ProvenanceFailure.WRONG_CLIENT_KEY


def test_signature_by_wrong_key_under_the_approved_key_is_rejected(world):
    upload = world["signer"].sign(world["items"], world["account"])
    forged = replace(upload, client_signature=Ed25519Key.generate().sign(client_message(upload)))
    forged = replace(forged, user_signature=world["account"].sign(user_message(forged)))
    assert _reason(world, forged) is ProvenanceFailure.CLIENT_SIGNATURE_INVALID


def test_client_signature_covers_every_field(world):
    upload = world["signer"].sign(world["items"], world["account"])
    for change in ({"captured_at_ms": upload.captured_at_ms + 1}, {"device_fingerprint": bytes(32)},
                   {"salt": bytes(32)}, {"user_public_key": AccountKey.generate().public_key_bytes}):
        tampered = replace(upload, **change)
        # re-sign the user part so only the client signature can catch the change
        tampered = replace(tampered, user_signature=world["account"].sign(user_message(tampered)))
        assert _reason(world, tampered) is ProvenanceFailure.CLIENT_SIGNATURE_INVALID, change


def test_user_signature_over_other_data_is_rejected(world):
    upload = world["signer"].sign(world["items"], world["account"])
    other = replace(upload, user_signature=world["account"].sign(b"some other message"))
    assert _reason(world, other) is ProvenanceFailure.USER_SIGNATURE_INVALID
    by_other_user = replace(upload, user_signature=AccountKey.generate().sign(user_message(upload)))
    assert _reason(world, by_other_user) is ProvenanceFailure.USER_SIGNATURE_INVALID


def test_stale_and_future_timestamps_are_rejected(world):
    upload = world["signer"].sign(world["items"], world["account"])
    world["clock"].t = NOW + 301.0
    assert _reason(world, upload) is ProvenanceFailure.STALE_TIMESTAMP
    world["clock"].t = NOW - 60.0
    assert _reason(world, upload) is ProvenanceFailure.FUTURE_TIMESTAMP
    world["clock"].t = NOW
    assert world["verifier"].verify(upload).accepted  # rejected attempts did not burn the salt


def test_malformed_fields_are_rejected(world):
    upload = world["signer"].sign(world["items"], world["account"])
    assert _reason(world, replace(upload, salt=b"short")) is ProvenanceFailure.MALFORMED
    assert _reason(world, replace(upload, version=2)) is ProvenanceFailure.MALFORMED
    with pytest.raises(InputError):
        CaptureUpload.from_json("{not json")
    with pytest.raises(InputError):
        world["signer"].sign((), world["account"])


def test_salt_store_persists_and_prunes(tmp_path):
    path = tmp_path / "s.sqlite"
    store = SaltStore(path)
    assert store.claim(b"a" * 32, 1000, "c") and not store.claim(b"a" * 32, 1000, "c")
    store.close()
    store = SaltStore(path)
    assert store.seen(b"a" * 32)
    assert store.prune(2000) == 1 and not store.seen(b"a" * 32)


def test_json_registry_round_trip(tmp_path):
    key = Ed25519Key.generate()
    reg = JsonFileClientRegistry(tmp_path / "clients.json")
    assert reg.get("x") is None
    reg.add(ApprovedClient("x", key.public_key_bytes, "X app"))
    reg.save()
    again = JsonFileClientRegistry(tmp_path / "clients.json")
    assert again.get("x") == ApprovedClient("x", key.public_key_bytes, "X app")
