"""The client side: build a signed, encrypted identity upload (as a capture app does) and call the verification server."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from attest.keys import AccountKey, Ed25519Key, RecipientPublicKey
from pipelines.provenance.capture import CaptureSigner, CaptureUpload, device_fingerprint
from serving.bundle import bundle_items, seal_bundle


@dataclass(frozen=True)
class CaptureApp:
    """An approved capture client: its id in the registry and its Ed25519 key."""

    client_id: str
    key: Ed25519Key
    device: tuple[tuple[str, str], ...] = (("model", "veid-test-device"),)

    def upload(self, document: bytes, selfie: bytes, scopes: dict | None, account: AccountKey,
               recipients: Sequence[RecipientPublicKey], prefix: str = "virtengine") -> tuple[bytes, CaptureUpload]:
        """Sign the capture (client, then user) and seal it to ``recipients``; returns envelope bytes and the upload."""
        signer = CaptureSigner(self.client_id, self.key, device_fingerprint(dict(self.device)))
        upload = signer.sign(bundle_items(document, selfie, scopes), account)
        return seal_bundle(upload, recipients, self.key, prefix).to_bytes(), upload


class VerificationClient:
    """A small HTTP client of the verification server (``httpx``).

    Args:
        base_url: e.g. ``http://127.0.0.1:3000``.
        timeout_s: per-request timeout, seconds.
    """

    def __init__(self, base_url: str, timeout_s: float = 120.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def verify(self, envelope: bytes, scope_id: str = "") -> httpx.Response:
        """POST /verify with the envelope (base64 in JSON)."""
        return self.http.post("/verify", json={"envelope_b64": base64.b64encode(envelope).decode(), "scope_id": scope_id})

    def score(self, features: Sequence[float]) -> httpx.Response:
        """POST /score with a feature vector."""
        return self.http.post("/score", json={"features": list(features)})

    def ready(self) -> bool:
        """Whether /readyz answers 200."""
        try:
            return self.http.get("/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def metrics(self) -> str:
        """The Prometheus text of /metrics."""
        return self.http.get("/metrics").text


def error_message(response: httpx.Response) -> str:
    """The ``error`` text of a BentoML error answer (object or one-element list)."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text
    if isinstance(body, list) and body:
        body = body[0]
    return str(body.get("error", body)) if isinstance(body, dict) else str(body)


def request_verification(chain, owner_wallet, account: AccountKey, app: CaptureApp, envelope: bytes, salt: bytes,
                         store) -> tuple[str, int]:
    """Store the envelope and send MsgUploadScope (signed by the client app and the owner); returns (scope id, height).

    Args:
        chain: a :class:`chain_client.client.ChainClient`.
        owner_wallet: the owner's cosmpy wallet (signs the transaction).
        account: the owner's account key (signs the upload digest; same key as ``owner_wallet``).
        app: the approved capture client.
        envelope: sealed envelope bytes.
        salt: the upload's salt (its SHA-256 goes on chain).
        store: the shared :class:`serving.envelope_store.EnvelopeStore`.
    """
    import hashlib

    from chain_client.messages import ScopeUpload, scope_sign_bytes

    ref = store.put(envelope)
    scope_id = "scope-" + hashlib.sha256(envelope).hexdigest()[:16]
    env_hash, salt_hash = hashlib.sha256(envelope).digest(), hashlib.sha256(salt).digest()
    digest = scope_sign_bytes(account.address, scope_id, ref, env_hash, salt_hash, app.client_id)
    request = ScopeUpload(scope_id, ref, env_hash, salt_hash, app.client_id, app.key.sign(digest), account.sign(digest))
    tx = chain.submit(owner_wallet, [request.to_msg(account.address)])
    return scope_id, tx.height
