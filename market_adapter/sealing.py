"""Seal order details to the provider's key and deliveries to the customer's key (attest envelopes, X25519 HPKE)."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from typing import Any

from attest.envelope import EnvelopeContext, seal
from attest.keys import Ed25519Key, KemAlgorithm, RecipientPublicKey
from market_adapter.gate import OfferingFacts, OrderFacts
from veid.errors import CryptoError

ORDER_DETAILS_SCOPE = "order_details"
DELIVERY_SCOPE = "order_delivery"
#: Prefix of a sealed delivery posted as the order's provider message.
DELIVERY_PREFIX = "veid-envelope:v1:"


def recipient_key_from_text(text: str) -> RecipientPublicKey:
    """An X25519 recipient key from base64 or hex text (32 raw bytes).

    Raises:
        CryptoError: not 32 bytes of base64 or hex.
    """
    text = text.strip()
    for decode in (bytes.fromhex, lambda t: base64.b64decode(t, validate=True)):
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == 32:
            return RecipientPublicKey(KemAlgorithm.X25519, raw)
    raise CryptoError("recipient key must be 32 bytes of X25519 public key in hex or base64")


def order_details_payload(order: OrderFacts, offering: OfferingFacts) -> bytes:
    """Canonical JSON of what the provider needs to fulfil the order (no signature material)."""
    doc: Mapping[str, Any] = {
        "order_uuid": order.order_uuid,
        "offering_uuid": offering.offering_uuid,
        "buyer_address": order.buyer_address,
        "attributes": dict(order.attributes),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def seal_order_details(
    order: OrderFacts, offering: OfferingFacts, provider_key: RecipientPublicKey, sender: Ed25519Key
) -> bytes:
    """Envelope bytes of the order details, readable only with the provider's private key."""
    context = EnvelopeContext(ORDER_DETAILS_SCOPE, order.buyer_address, os.urandom(16))
    return seal(order_details_payload(order, offering), [provider_key], sender, context).to_bytes()


def seal_delivery(buyer_address: str, payload: bytes, customer_key: RecipientPublicKey, sender: Ed25519Key) -> str:
    """A delivery (credentials, endpoints) sealed to the customer, as a provider-message string."""
    context = EnvelopeContext(DELIVERY_SCOPE, buyer_address, os.urandom(16))
    sealed = seal(payload, [customer_key], sender, context).to_bytes()
    return DELIVERY_PREFIX + base64.b64encode(sealed).decode("ascii")


def delivery_bytes(message: str) -> bytes:
    """The envelope bytes inside a provider message written by :func:`seal_delivery`.

    Raises:
        CryptoError: the message is not a sealed delivery.
    """
    if not message.startswith(DELIVERY_PREFIX):
        raise CryptoError("provider message is not a VEID sealed delivery")
    try:
        return base64.b64decode(message[len(DELIVERY_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise CryptoError("sealed delivery is not valid base64") from exc
