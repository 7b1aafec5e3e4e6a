"""The pending-order decision with real ADR-036 signatures and an in-memory chain."""

from __future__ import annotations

import uuid

import pytest

from attest.adr036 import sign_adr036
from hpc_adapter.chain import Role
from market_adapter.gate import MarketConfig, OfferingFacts, OrderFacts, OrderGate, Verdict
from veid.errors import ChainError


def gate(world, now=1_000_000.0, **kw):
    cfg = MarketConfig(pending_timeout_s=3600, **kw)
    return OrderGate(cfg, world.chain, world.chain, world.domains, clock=lambda: now)


def offering(world, min_score=70, domain="gpu.example.org", address=None):
    return OfferingFacts("off-1", world.provider.address if address is None else address, domain, min_score)


def order(key, created_at=1_000_000.0, signer=None, sign_uuid=None):
    order_uuid = str(uuid.uuid4())
    signature = sign_adr036(signer or key, (sign_uuid or order_uuid).encode(), (signer or key).address)
    return OrderFacts(order_uuid, key.address, signature, created_at)


def test_verified_buyer_and_provider_accepted(world):
    decision = gate(world)(order(world.buyer), offering(world))
    assert decision.verdict is Verdict.ACCEPT
    assert [c.name for c in decision.checks] == ["provider.role", "provider.domain", "buyer.ownership", "buyer.score"]
    assert all(c.passed for c in decision.checks)


def test_buyer_below_offering_minimum_rejected_with_reason(world):
    decision = gate(world)(order(world.stranger), offering(world))
    assert decision.verdict is Verdict.REJECT
    assert decision.reason == "buyer score 35 below the offering minimum 70"
    assert gate(world)(order(world.buyer), offering(world, min_score=90)).verdict is Verdict.REJECT


def test_signature_by_another_key_or_over_another_order_rejected(world):
    forged = order(world.buyer, signer=world.stranger)  # stranger signs, claims buyer's address
    forged = OrderFacts(forged.order_uuid, world.buyer.address, forged.buyer_signature, forged.created_at)
    d1 = gate(world)(forged, offering(world))
    assert d1.verdict is Verdict.REJECT and "ADR-036" in d1.reason
    d2 = gate(world)(order(world.buyer, sign_uuid=str(uuid.uuid4())), offering(world))  # replayed from another order
    assert d2.verdict is Verdict.REJECT and "signature" in d2.reason


def test_missing_proof_rejected(world):
    bare = OrderFacts(str(uuid.uuid4()), world.buyer.address, None)
    d = gate(world)(bare, offering(world))
    assert d.verdict is Verdict.REJECT and "did not prove" in d.reason


def test_unscored_buyer_held_then_rejected_after_timeout(world):
    newcomer = type(world.buyer).generate()
    o = order(newcomer, created_at=1_000_000.0)
    assert gate(world, now=1_000_100.0)(o, offering(world)).verdict is Verdict.PENDING
    late = gate(world, now=1_000_000.0 + 7200)(o, offering(world))
    assert late.verdict is Verdict.REJECT and "held longer" in late.reason


@pytest.mark.parametrize(
    "change, reason",
    [
        ("no_role", "not a verified service provider"),
        ("no_domain", "no verified domain"),
        ("wrong_domain", "not verified"),
        ("no_address", "no provider chain address"),
    ],
)
def test_unverified_provider_rejected(world, change, reason):
    off = offering(world)
    if change == "no_role":
        world.chain.set_roles(world.provider.address, {Role.CUSTOMER})
    elif change == "no_domain":
        off = offering(world, domain="")
    elif change == "wrong_domain":
        off = offering(world, domain="other.example.org")
    else:
        off = offering(world, address="")
    d = gate(world)(order(world.buyer), off)
    assert d.verdict is Verdict.REJECT and reason in d.reason


def test_chain_outage_holds(world):
    class Down:
        def score(self, address):
            raise ChainError("connection refused")

        def roles(self, address):
            raise ChainError("connection refused")

    g = OrderGate(MarketConfig(), Down(), Down(), world.domains, clock=lambda: 1_000_000.0)
    d = g(order(world.buyer), offering(world))
    assert d.verdict is Verdict.PENDING and "chain unavailable" in d.reason


def test_dns_outage_holds(world):
    from veid.errors import AdapterError

    class DnsDown:
        def check(self, address, domain):
            raise AdapterError("DNS lookup of the verification record failed: timeout")

    g = OrderGate(MarketConfig(), world.chain, world.chain, DnsDown(), clock=lambda: 1_000_000.0)
    d = g(order(world.buyer), offering(world))
    assert d.verdict is Verdict.PENDING and "domain check unavailable" in d.reason
