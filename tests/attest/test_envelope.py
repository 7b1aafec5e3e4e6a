"""Envelopes: round trips, RFC 9180 known answer, every-byte tamper, wrong recipient, truncation, versions."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from cryptography.hazmat.bindings._rust import openssl as rust_openssl
from cryptography.hazmat.primitives import hpke
from hypothesis import given, settings
from hypothesis import strategies as st

from attest.canonical import EncodingError
from attest.envelope import (
    MAGIC,
    Envelope,
    EnvelopeContext,
    Suite,
    open_envelope,
    seal,
    verify_envelope,
)
from attest.keys import Ed25519Key, MLKEM768X25519Key, X25519Key
from veid.errors import CryptoError

CTX = EnvelopeContext("identity_upload", "virtengine19rl4cm2hmr8afy4kldpxz3fka4jguq0a6mvv5p", b"\x01" * 16)
SENDER = Ed25519Key.from_bytes(bytes(range(32)))


def _keys(suite: Suite, n: int) -> list[X25519Key | MLKEM768X25519Key]:
    cls = X25519Key if suite is Suite.X25519 else MLKEM768X25519Key
    return [cls.generate() for _ in range(n)]


def test_rfc9180_a1_known_answer() -> None:
    """The HPKE implementation we wrap opens RFC 9180 A.1.1 (base mode, sequence 0)."""
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk_r = X25519Key.from_bytes(bytes.fromhex("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8"))
    assert sk_r.public_key_bytes.hex() == "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d"
    enc = bytes.fromhex("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431")
    ct = bytes.fromhex("f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a")
    info = bytes.fromhex("4f6465206f6e2061204772656369616e2055726e")
    plain = rust_openssl.hpke._decrypt_with_aad(suite, enc + ct, sk_r.to_hpke(), info=info, aad=b"Count-0")
    assert plain == b"Beauty is truth, truth beauty"


@pytest.mark.parametrize("suite", list(Suite))
@pytest.mark.parametrize("n", [1, 5])
def test_roundtrip_every_recipient(suite: Suite, n: int) -> None:
    keys = _keys(suite, n)
    payload = bytes(range(256)) * 40
    env = seal(payload, [k.public_key() for k in keys], SENDER, CTX, suite)
    wire = env.to_bytes()
    assert Envelope.from_bytes(wire) == env
    assert Envelope.from_bytes(wire).to_bytes() == wire
    for k in keys:
        assert open_envelope(wire, k, expected_context=CTX, trusted_senders=[SENDER.public_key_bytes]) == payload
    assert len(set(env.wrapped_keys)) == n  # one wrap per recipient, each with a fresh encapsulation


def test_data_key_and_nonce_are_fresh() -> None:
    key = X25519Key.generate()
    a = seal(b"same", [key.public_key()], SENDER, CTX)
    b = seal(b"same", [key.public_key()], SENDER, CTX)
    assert a.nonce != b.nonce and a.ciphertext != b.ciphertext and a.wrapped_keys != b.wrapped_keys


@pytest.mark.parametrize("suite", list(Suite))
def test_flipping_any_byte_is_rejected(suite: Suite) -> None:
    keys = _keys(suite, 2)
    wire = seal(b"secret payload", [k.public_key() for k in keys], SENDER, CTX, suite).to_bytes()
    for i in range(len(wire)):
        bad = bytearray(wire)
        bad[i] ^= 0x80
        with pytest.raises(CryptoError):
            open_envelope(bytes(bad), keys[1])


def test_signature_is_checked_before_decryption() -> None:
    key = X25519Key.generate()
    env = seal(b"payload", [key.public_key()], SENDER, CTX)
    assert len(env.wrapped_keys[0]) == 32 + 32 + 16  # X25519 encapsulation, wrapped 256-bit key, GCM tag
    tampered = dataclasses.replace(env, ciphertext=env.ciphertext[:-1] + bytes([env.ciphertext[-1] ^ 1]))
    with pytest.raises(CryptoError, match="signature"):
        open_envelope(tampered, key)


def test_wrong_recipient_context_and_sender() -> None:
    key = X25519Key.generate()
    env = seal(b"p", [key.public_key()], SENDER, CTX)
    with pytest.raises(CryptoError, match="not a recipient"):
        open_envelope(env, X25519Key.generate())
    with pytest.raises(CryptoError, match="context"):
        open_envelope(env, key, expected_context=dataclasses.replace(CTX, subject="virtengine1other"))
    with pytest.raises(CryptoError, match="not trusted"):
        open_envelope(env, key, trusted_senders=[Ed25519Key.generate().public_key_bytes])
    with pytest.raises(CryptoError, match="not trusted"):
        open_envelope(env, key, trusted_senders=[Ed25519Key.generate().key_id])
    assert open_envelope(env, key, trusted_senders=[SENDER.key_id]) == b"p"
    with pytest.raises(CryptoError):
        open_envelope(env, MLKEM768X25519Key.generate())


def test_resigned_envelope_with_moved_context_fails() -> None:
    """An attacker who re-signs with their own key cannot move the ciphertext to another context."""
    key = X25519Key.generate()
    env = seal(b"p", [key.public_key()], SENDER, CTX)
    attacker = Ed25519Key.generate()
    moved = dataclasses.replace(env, context=dataclasses.replace(CTX, scope_type="order_details"),
                                sender_public_key=attacker.public_key_bytes)  # fmt: skip
    moved = dataclasses.replace(moved, signature=attacker.sign(moved.signed_bytes()))
    verify_envelope(moved)  # the forged signature itself is valid ...
    with pytest.raises(CryptoError, match="does not decrypt"):
        open_envelope(moved, key)  # ... but the key wrap and AEAD are bound to the original header
    with pytest.raises(CryptoError, match="not trusted"):
        open_envelope(moved, key, trusted_senders=[SENDER.public_key_bytes])


def test_truncated_and_extended_input() -> None:
    key = X25519Key.generate()
    wire = seal(b"payload", [key.public_key()], SENDER, CTX).to_bytes()
    for n in range(len(wire)):
        with pytest.raises(CryptoError):
            Envelope.from_bytes(wire[:n])
    with pytest.raises(EncodingError, match="trailing"):
        Envelope.from_bytes(wire + b"\x00")


def test_unknown_version_suite_and_magic() -> None:
    key = X25519Key.generate()
    wire = seal(b"payload", [key.public_key()], SENDER, CTX).to_bytes()
    with pytest.raises(CryptoError, match="version 2"):
        Envelope.from_bytes(wire[:4] + b"\x02" + wire[5:])
    with pytest.raises(CryptoError, match="unknown envelope suite 9"):
        Envelope.from_bytes(wire[:5] + b"\x00\x09" + wire[7:])
    with pytest.raises(CryptoError, match="magic"):
        Envelope.from_bytes(b"XXXX" + wire[4:])
    assert wire[:4] == MAGIC


def test_seal_input_checks() -> None:
    x, h = X25519Key.generate(), MLKEM768X25519Key.generate()
    with pytest.raises(CryptoError):
        seal(b"p", [], SENDER, CTX)
    with pytest.raises(CryptoError, match="duplicate"):
        seal(b"p", [x.public_key(), x.public_key()], SENDER, CTX)
    with pytest.raises(CryptoError):
        seal(b"p", [h.public_key()], SENDER, CTX, Suite.X25519)
    with pytest.raises(CryptoError):
        EnvelopeContext("", "s")


def test_digest_is_sha256_of_wire() -> None:
    env = seal(b"p", [X25519Key.generate().public_key()], SENDER, CTX)
    assert env.digest == hashlib.sha256(env.to_bytes()).hexdigest()


_texts = st.text(max_size=40).filter(lambda s: len(s.encode()) <= 255)


@settings(max_examples=60, deadline=None)
@given(
    suite=st.sampled_from(list(Suite)),
    scope=_texts.filter(bool),
    subject=_texts,
    salt=st.binary(max_size=255),
    n=st.integers(1, 4),
    ciphertext=st.binary(min_size=16, max_size=300),
    data=st.data(),
)
def test_canonical_encoding_roundtrip(suite, scope, subject, salt, n, ciphertext, data) -> None:  # type: ignore[no-untyped-def]
    kids = tuple(data.draw(st.binary(min_size=16, max_size=16)).hex() for _ in range(n))
    wrapped = tuple(data.draw(st.binary(min_size=suite.wrapped_key_bytes, max_size=suite.wrapped_key_bytes))
                    for _ in range(n))  # fmt: skip
    env = Envelope(suite, data.draw(st.binary(min_size=32, max_size=32)), EnvelopeContext(scope, subject, salt),
                   kids, data.draw(st.binary(min_size=12, max_size=12)), wrapped, ciphertext,
                   data.draw(st.binary(min_size=64, max_size=64)))  # fmt: skip
    wire = env.to_bytes()
    assert Envelope.from_bytes(wire) == env
    assert Envelope.from_bytes(wire).to_bytes() == wire
