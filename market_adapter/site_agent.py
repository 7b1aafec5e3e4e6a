"""Plug the VEID order gate into waldur-site-agent: a mixin overriding ``evaluate_pending_order``.

waldur-site-agent 1.0.7 is not installed with VEID (it pins PyYAML==6.0.1, sentry-sdk==2.8.0
and waldur-api-client==8.1.2); a site that runs the agent composes the mixin with its own
backend::

    from waldur_site_agent_slurm.backend import SlurmBackend
    class VeidSlurmBackend(VeidOrderGateMixin, SlurmBackend):
        pass

and calls :meth:`VeidOrderGateMixin.configure_veid_gate` once after construction.
"""

from __future__ import annotations

from typing import Any

from market_adapter.gate import MarketConfig, OrderGate, Verdict
from market_adapter.waldur import offering_facts, order_facts
from veid.logs import get_logger

log = get_logger(__name__)


def _agent_decision(verdict: Verdict) -> Any:
    """The site agent's ``PendingOrderDecision`` member when it is installed, else our equal-valued Verdict."""
    try:
        from waldur_site_agent.backend.backends import PendingOrderDecision
    except ImportError:
        return verdict
    return PendingOrderDecision(verdict.value)


class VeidOrderGateMixin:
    """Adds VEID identity gating to a waldur-site-agent backend."""

    veid_gate: OrderGate | None = None
    veid_cfg: MarketConfig | None = None

    def configure_veid_gate(self, cfg: MarketConfig, gate: OrderGate) -> None:
        """Attach the config and the gate (chain readers, domain checker) to this backend."""
        self.veid_cfg = cfg
        self.veid_gate = gate

    def evaluate_pending_order(self, order: Any, waldur_rest_client: Any) -> Any:
        """The site agent's hook: ACCEPT, REJECT or PENDING for an order in ``pending-provider``.

        Fails closed: without a configured gate, or when the offering cannot be read, the order stays PENDING.
        The site agent rejects without a comment, so the reason is logged here.
        """
        if self.veid_gate is None or self.veid_cfg is None:
            log.warning("VEID gate not configured; holding order %s", getattr(order, "uuid", "?"))
            return _agent_decision(Verdict.PENDING)
        try:
            from waldur_api_client.api.marketplace_provider_offerings import marketplace_provider_offerings_retrieve

            offering = marketplace_provider_offerings_retrieve.sync(order.offering_uuid, client=waldur_rest_client)
            decision = self.veid_gate(order_facts(order, self.veid_cfg), offering_facts(offering, self.veid_cfg))
        except Exception as exc:  # noqa: BLE001 - fail closed: any failure holds the order, never approves it
            log.warning("VEID gate could not decide order %s: %s", getattr(order, "uuid", "?"), exc)
            return _agent_decision(Verdict.PENDING)
        log.info("VEID gate: order %s -> %s (%s)", order.uuid, decision.verdict.value, decision.reason)
        return _agent_decision(decision.verdict)
