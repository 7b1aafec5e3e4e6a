"""One pass over an offering's pending orders: decide with the gate, approve, reject or hold in Waldur, seal what is handed on.

Rejections carry the reason as Waldur's ``provider_rejection_comment``; held orders get it as the
order's provider message, so the buyer sees why in both cases.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from attest.keys import Ed25519Key, RecipientPublicKey
from market_adapter.gate import MarketConfig, OrderDecision, OrderGate, Verdict
from market_adapter.sealing import recipient_key_from_text, seal_delivery, seal_order_details
from market_adapter.waldur import WaldurClient, offering_facts, order_facts
from veid.errors import AdapterError, CryptoError
from veid.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class OrderOutcome:
    """What happened to one order: the decision, whether Waldur accepted our call, and the sealed file."""

    order_uuid: str
    decision: OrderDecision
    applied: bool
    error: str = ""
    sealed_path: str = ""


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OrderAgent:
    """Processes pending-provider orders of Waldur offerings.

    Args:
        cfg: :class:`MarketConfig`.
        waldur: API boundary.
        gate: the decision.
        provider_key: the provider's X25519 public key; accepted orders' details are sealed to it.
        sender: the agent's Ed25519 signing key (envelope sender).
    """

    def __init__(
        self, cfg: MarketConfig, waldur: WaldurClient, gate: OrderGate, provider_key: RecipientPublicKey, sender: Ed25519Key
    ) -> None:
        self.cfg = cfg
        self.waldur = waldur
        self.gate = gate
        self.provider_key = provider_key
        self.sender = sender

    def run_offering(self, offering_uuid: str) -> list[OrderOutcome]:
        """Decide every pending order of one offering; one failing order never stops the others.

        Raises:
            AdapterError: the offering or its order list could not be read.
        """
        offering = offering_facts(self.waldur.offering(offering_uuid), self.cfg)
        outcomes = []
        for order in self.waldur.pending_orders(offering_uuid):
            facts = order_facts(order, self.cfg)
            decision = self.gate(facts, offering)
            try:
                sealed = ""
                if decision.verdict is Verdict.ACCEPT:
                    # Seal and store first: an approved order always has its details in the outbox.
                    path = Path(self.cfg.outbox_dir) / f"{facts.order_uuid}.ven"
                    _write_atomic(path, seal_order_details(facts, offering, self.provider_key, self.sender))
                    sealed = str(path)
                    self.waldur.approve(facts.order_uuid)
                elif decision.verdict is Verdict.REJECT:
                    self.waldur.reject(facts.order_uuid, f"VEID: {decision.reason}")
                else:
                    # Held: tell the buyer why through the order's provider message (once per reason).
                    message = f"VEID: order held: {decision.reason}"
                    if getattr(order, "provider_message", None) != message:
                        self.waldur.set_provider_message(facts.order_uuid, message)
                outcomes.append(OrderOutcome(facts.order_uuid, decision, decision.verdict is not Verdict.PENDING, "", sealed))
            except (AdapterError, OSError) as exc:
                log.warning("order %s: %s failed: %s", facts.order_uuid, decision.verdict.value, exc)
                outcomes.append(OrderOutcome(facts.order_uuid, decision, False, str(exc)))
            log.info("order %s: %s (%s)", facts.order_uuid, decision.verdict.value, decision.reason)
        return outcomes

    def deliver(self, order_uuid: str, payload: bytes) -> None:
        """Seal ``payload`` to the customer's key (order attribute) and post it as the provider message.

        Raises:
            CryptoError: the order carries no usable customer key.
            AdapterError: Waldur refused the call.
        """
        order = self.waldur.order(order_uuid)
        facts = order_facts(order, self.cfg)
        key_text = facts.attributes.get(self.cfg.buyer_key_attr)
        if not isinstance(key_text, str):
            raise CryptoError(f"order {order_uuid} has no {self.cfg.buyer_key_attr} to seal the delivery to")
        message = seal_delivery(facts.buyer_address, payload, recipient_key_from_text(key_text), self.sender)
        self.waldur.set_provider_message(order_uuid, message)
