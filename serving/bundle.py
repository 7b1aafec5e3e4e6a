"""What an identity upload's envelope carries: a signed CaptureUpload of document photo, selfie and web-scope evidence.

The envelope plaintext is :meth:`CaptureUpload.to_json` of an upload with exactly these items:

* ``document_front``: the document photo (JPEG/PNG/WebP);
* ``selfie``: the selfie (JPEG/PNG/WebP);
* ``scopes``: ``application/json``, the web scopes the capture client verified (email, sms,
  sso, domain, biometric, metadata) in the :func:`pipelines.scoring.evidence.parse_evidence`
  form. Document, selfie, liveness and provenance are measured by the validators and may not
  be claimed here.

The envelope is signed by the capture client's Ed25519 key (the one in the approved-client
registry), its context subject is the owner's account address and its context salt is the
upload's salt, so a validator can tie envelope, upload and on-chain request together.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass

from attest.envelope import Envelope, EnvelopeContext, Suite, open_envelope, seal
from attest.keys import Ed25519Key, RecipientPrivateKey, RecipientPublicKey, address_from_public_key
from pipelines.provenance.capture import CaptureItem, CaptureUpload, media_type_of
from pipelines.provenance.registry import ApprovedClientRegistry
from pipelines.scoring.evidence import Evidence, parse_evidence
from veid.errors import CryptoError, InputError

DOCUMENT_ITEM = "document_front"
SELFIE_ITEM = "selfie"
SCOPES_ITEM = "scopes"
SCOPE_TYPE = "identity_upload"
#: Scopes a capture client may report; the rest are measured by validators from the photos.
CLIENT_SCOPES = ("email", "sms", "sso", "domain", "biometric", "metadata")
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True)
class IdentityBundle:
    """An opened identity upload.

    Attributes:
        upload: the signed capture upload (provenance is checked separately).
        document: encoded document photo bytes.
        selfie: encoded selfie bytes.
        web_evidence: the client-reported web scopes (document/selfie/liveness/provenance unset).
        subject: the owner's account address, derived from the upload's user key.
    """

    upload: CaptureUpload
    document: bytes
    selfie: bytes
    web_evidence: Evidence
    subject: str


def bundle_items(document: bytes, selfie: bytes, scopes: dict | None = None) -> tuple[CaptureItem, ...]:
    """The three capture items of an identity upload, in wire order.

    Args:
        document: encoded document photo.
        selfie: encoded selfie.
        scopes: client-verified web scopes (``parse_evidence`` form); ``None`` for none.
    """
    scopes_json = json.dumps(scopes or {}, sort_keys=True).encode("utf-8")
    return (
        CaptureItem(DOCUMENT_ITEM, media_type_of(document), document),
        CaptureItem(SELFIE_ITEM, media_type_of(selfie), selfie),
        CaptureItem(SCOPES_ITEM, "application/json", scopes_json),
    )


def parse_bundle(plaintext: bytes, prefix: str = "virtengine") -> IdentityBundle:
    """Parse an envelope's plaintext into an :class:`IdentityBundle`.

    Raises:
        InputError: not a capture upload, an item missing or of the wrong type, or invalid scopes.
    """
    upload = CaptureUpload.from_json(plaintext)
    names = sorted(i.name for i in upload.items)
    if names != sorted((DOCUMENT_ITEM, SELFIE_ITEM, SCOPES_ITEM)):
        raise InputError(f"an identity upload carries exactly {DOCUMENT_ITEM}, {SELFIE_ITEM} and {SCOPES_ITEM}; got {names}")
    for name in (DOCUMENT_ITEM, SELFIE_ITEM):
        item = upload.item(name)
        if item.media_type not in _IMAGE_TYPES or media_type_of(item.data) != item.media_type:
            raise InputError(f"item {name!r} must be a JPEG, PNG or WebP image (declared {item.media_type!r})")
    try:
        raw = json.loads(upload.item(SCOPES_ITEM).data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"item {SCOPES_ITEM!r} is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise InputError(f"item {SCOPES_ITEM!r} must be a JSON object")
    measured = sorted(k for k, v in raw.items() if k not in CLIENT_SCOPES and v is not None)
    if measured:
        raise InputError(f"scopes {measured} are measured by validators and may not be claimed by the client")
    evidence = parse_evidence(raw)
    if len(upload.user_public_key) != 33:
        raise InputError("upload user public key must be a 33-byte compressed secp256k1 key")
    subject = address_from_public_key(upload.user_public_key, prefix)
    return IdentityBundle(upload, upload.item(DOCUMENT_ITEM).data, upload.item(SELFIE_ITEM).data, evidence, subject)


def seal_bundle(upload: CaptureUpload, recipients: Sequence[RecipientPublicKey], client_key: Ed25519Key,
                prefix: str = "virtengine", suite: Suite = Suite.X25519) -> Envelope:
    """Encrypt an upload to every validator, signed by the capture client (as the client app does).

    The context subject is the owner's address (from the upload's user key) and the context
    salt is the upload's salt.
    """
    subject = address_from_public_key(upload.user_public_key, prefix)
    context = EnvelopeContext(SCOPE_TYPE, subject, upload.salt)
    return seal(upload.to_json().encode("utf-8"), recipients, client_key, context, suite)


def open_bundle(envelope: bytes | Envelope, key: RecipientPrivateKey, registry: ApprovedClientRegistry,
                prefix: str = "virtengine", expected_subject: str | None = None) -> tuple[Envelope, IdentityBundle]:
    """Verify, decrypt and parse an identity envelope for one validator.

    Checks, in order: the envelope parses; its sender signature verifies; it was sealed by an
    approved, unrevoked capture client (the one the upload names); the payload decrypts for
    ``key``; the upload parses; the envelope's subject and salt are the upload's; the subject
    is ``expected_subject`` when given (the on-chain owner).

    Raises:
        CryptoError: bad envelope, unknown or unapproved sender, not a recipient, tampered.
        InputError: the plaintext is not a valid identity upload, or it does not match its envelope.
    """
    env = Envelope.from_bytes(bytes(envelope)) if not isinstance(envelope, Envelope) else envelope
    if env.context.scope_type != SCOPE_TYPE:
        raise InputError(f"envelope scope type is {env.context.scope_type!r}, expected {SCOPE_TYPE!r}")
    trusted = _approved_sender_keys(env, registry)
    plaintext = open_envelope(env, key, trusted_senders=trusted)
    bundle = parse_bundle(plaintext, prefix)
    client = registry.get(bundle.upload.client_id)
    if client is None or not hmac.compare_digest(client.public_key, env.sender_public_key):
        raise CryptoError(f"envelope was not sealed by the upload's capture client {bundle.upload.client_id!r}")
    if not hmac.compare_digest(env.context.salt, bundle.upload.salt):
        raise InputError("envelope salt differs from the upload's salt (upload moved into another envelope)")
    if env.context.subject != bundle.subject:
        raise InputError("envelope subject is not the upload's account")
    if expected_subject is not None and bundle.subject != expected_subject:
        raise InputError("upload belongs to another account than the request's owner")
    return env, bundle


def _approved_sender_keys(env: Envelope, registry: ApprovedClientRegistry) -> list[bytes]:
    """The sender's key when it belongs to an approved client, else raise (checked before decryption)."""
    clients = getattr(registry, "all", None)
    if callable(clients):
        keys = [c.public_key for c in clients() if not c.revoked]
        if not any(hmac.compare_digest(k, env.sender_public_key) for k in keys):
            raise CryptoError("envelope sender is not an approved capture client")
        return keys
    return [env.sender_public_key]  # registry cannot list: the client check after parsing decides
