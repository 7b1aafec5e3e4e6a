"""Identity bundles: seal to validators, open with checks on sender, recipient, salt, subject and scopes."""

from __future__ import annotations

import json

import pytest

from attest.envelope import EnvelopeContext, seal
from attest.keys import AccountKey, Ed25519Key, X25519Key
from pipelines.provenance.capture import CaptureItem
from serving.bundle import CLIENT_SCOPES, bundle_items, open_bundle, parse_bundle, seal_bundle
from veid.errors import CryptoError, InputError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _envelope(app, user, keys, scopes=None, items=None):
    from pipelines.provenance.capture import CaptureSigner, device_fingerprint

    signer = CaptureSigner(app.client_id, app.key, device_fingerprint({"m": "x"}))
    upload = signer.sign(items or bundle_items(JPEG, PNG, scopes), user)
    return seal_bundle(upload, [k.public_key() for k in keys], app.key), upload


def test_round_trip_every_validator_opens(app, registry, user):
    keys = [X25519Key.generate() for _ in range(3)]
    env, upload = _envelope(app, user, keys, {"email": {"verified": True}})
    for key in keys:
        opened, bundle = open_bundle(env.to_bytes(), key, registry, expected_subject=user.address)
        assert bundle.document == JPEG and bundle.selfie == PNG
        assert bundle.subject == user.address and bundle.upload.salt == upload.salt
        assert bundle.web_evidence.email is not None and bundle.web_evidence.email.verified
        assert opened.context.salt == upload.salt


def test_not_a_recipient_and_tampered(app, registry, user):
    env, _ = _envelope(app, user, [X25519Key.generate()])
    with pytest.raises(CryptoError, match="not a recipient"):
        open_bundle(env.to_bytes(), X25519Key.generate(), registry)
    raw = bytearray(env.to_bytes())
    raw[-100] ^= 1
    with pytest.raises(CryptoError):
        open_bundle(bytes(raw), X25519Key.generate(), registry)


def test_unapproved_sender_refused_before_decryption(registry, user):
    from serving.client import CaptureApp

    rogue = CaptureApp("test-app", Ed25519Key.generate())  # claims the approved id with another key
    key = X25519Key.generate()
    env, _ = _envelope(rogue, user, [key])
    with pytest.raises(CryptoError, match="not an approved capture client"):
        open_bundle(env.to_bytes(), key, registry)


def test_wrong_owner_and_moved_upload(app, registry, user):
    key = X25519Key.generate()
    env, upload = _envelope(app, user, [key])
    with pytest.raises(InputError, match="another account"):
        open_bundle(env.to_bytes(), key, registry, expected_subject=AccountKey.generate().address)
    # The same signed upload re-sealed under another salt: refused.
    moved = seal(upload.to_json().encode(), [key.public_key()], app.key,
                 EnvelopeContext("identity_upload", user.address, b"\x01" * 32))
    with pytest.raises(InputError, match="salt"):
        open_bundle(moved.to_bytes(), key, registry)


def test_measured_scopes_cannot_be_claimed(app, registry, user):
    key = X25519Key.generate()
    env, _ = _envelope(app, user, [key], {"selfie": {"distance": 0.1, "match": True}})
    with pytest.raises(InputError, match="measured by validators"):
        open_bundle(env.to_bytes(), key, registry)
    assert "selfie" not in CLIENT_SCOPES and "email" in CLIENT_SCOPES


def test_items_must_be_the_three_expected(app, registry, user):
    key = X25519Key.generate()
    items = (CaptureItem("document_front", "image/jpeg", JPEG), CaptureItem("selfie", "image/png", PNG))
    env, _ = _envelope(app, user, [key], items=items)
    with pytest.raises(InputError, match="exactly"):
        open_bundle(env.to_bytes(), key, registry)
    items = bundle_items(b"not an image at all", PNG)
    env, _ = _envelope(app, user, [key], items=items)
    with pytest.raises(InputError, match="JPEG, PNG or WebP"):
        open_bundle(env.to_bytes(), key, registry)


def test_parse_bundle_rejects_garbage():
    with pytest.raises(InputError):
        parse_bundle(b"{}")
    with pytest.raises(InputError):
        parse_bundle(b"not json")
