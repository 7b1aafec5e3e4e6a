"""The order agent against a local Waldur API (shapes from waldur-api-client): approve, reject with reason, hold, seal."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from waldur_api_client.models.order_state import OrderState
from waldur_server import TOKEN, FakeWaldur

from attest.adr036 import sign_adr036
from attest.envelope import open_envelope
from attest.keys import AccountKey, Ed25519Key, X25519Key
from market_adapter.agent import OrderAgent
from market_adapter.gate import MarketConfig, OrderGate, Verdict
from market_adapter.sealing import delivery_bytes
from market_adapter.site_agent import VeidOrderGateMixin
from market_adapter.waldur import WaldurClient
from veid.errors import AdapterError


@pytest.fixture
def waldur():
    with FakeWaldur() as server:
        yield server


def signed_order(server, offering_uuid, key, claim=None, extra=None):
    """Create an order, then sign its UUID the way a wallet would (ADR-036) and store it in the attributes."""
    order_uuid = server.add_order(offering_uuid, {})
    attrs = {"veid_address": claim or key.address, "veid_signature": sign_adr036(key, order_uuid.encode(), key.address)}
    attrs.update(extra or {})
    from waldur_api_client.models.order_details_attributes import OrderDetailsAttributes

    server.orders[uuid.UUID(order_uuid).hex].attributes = OrderDetailsAttributes.from_dict(attrs)
    return order_uuid


def make_agent(world, server, tmp_path, provider_x=None):
    cfg = MarketConfig(outbox_dir=str(tmp_path / "outbox"))
    gate = OrderGate(cfg, world.chain, world.chain, world.domains)
    provider_x = provider_x or X25519Key.generate()
    return OrderAgent(cfg, WaldurClient(server.url, TOKEN), gate, provider_x.public_key(), Ed25519Key.generate()), provider_x


def test_unverified_buyers_rejected_with_reason_verified_accepted_and_sealed(world, waldur, tmp_path):
    off = waldur.add_offering({"veid_provider_address": world.provider.address, "veid_provider_domain": "gpu.example.org",
                               "veid_min_score": 75})
    good = signed_order(waldur, off, world.buyer, extra={"gpu": "h100"})
    low = signed_order(waldur, off, world.stranger)
    unproven = waldur.add_order(off, {"veid_address": world.buyer.address})
    impostor = signed_order(waldur, off, world.stranger, claim=world.buyer.address)
    newcomer = signed_order(waldur, off, AccountKey.generate())
    agent, provider_x = make_agent(world, waldur, tmp_path)

    outcomes = {o.order_uuid: o for o in agent.run_offering(off)}

    assert waldur.state(good) == OrderState.EXECUTING
    for rejected, words in ((low, "below the offering minimum 75"), (unproven, "did not prove"), (impostor, "signature")):
        assert waldur.state(rejected) == OrderState.REJECTED
        comment = waldur.orders[uuid.UUID(rejected).hex].provider_rejection_comment
        assert comment.startswith("VEID: ") and words in comment
        assert outcomes[rejected].decision.verdict is Verdict.REJECT and outcomes[rejected].applied
    assert waldur.state(newcomer) == OrderState.PENDING_PROVIDER
    assert outcomes[newcomer].decision.verdict is Verdict.PENDING
    held = waldur.orders[uuid.UUID(newcomer).hex].provider_message
    assert held == "VEID: order held: buyer has no on-chain score yet (verification pending)"
    # The accepted order's details are sealed to the provider's key only.
    sealed = (tmp_path / "outbox" / f"{good}.ven").read_bytes()
    details = json.loads(open_envelope(sealed, provider_x))
    assert details == {"order_uuid": good, "offering_uuid": off, "buyer_address": world.buyer.address,
                       "attributes": {"gpu": "h100"}}
    # A second pass sees only the held order, and does not repeat the same message.
    posts = sum(1 for method, path in waldur.requests if method == "POST" and path.endswith("set_provider_info/"))
    assert [o.order_uuid for o in agent.run_offering(off)] == [newcomer]
    assert posts == sum(1 for m, p in waldur.requests if m == "POST" and p.endswith("set_provider_info/")) == 1


def test_delivery_sealed_to_customer_key(world, waldur, tmp_path):
    off = waldur.add_offering({"veid_provider_address": world.provider.address, "veid_provider_domain": "gpu.example.org"})
    customer_x = X25519Key.generate()
    import base64

    good = signed_order(waldur, off, world.buyer,
                        extra={"veid_encryption_key": base64.b64encode(customer_x.public_key_bytes).decode()})
    agent, _ = make_agent(world, waldur, tmp_path)
    agent.run_offering(off)
    agent.deliver(good, b"ssh gpu-node-7.gpu.example.org -p 2222")
    message = waldur.orders[uuid.UUID(good).hex].provider_message
    assert b"gpu-node-7" not in message.encode()
    assert open_envelope(delivery_bytes(message), customer_x) == b"ssh gpu-node-7.gpu.example.org -p 2222"


def test_component_usage_report_shape(waldur):
    client = WaldurClient(waldur.url, TOKEN)
    resource = str(uuid.uuid4())
    client.report_usage(resource, {"cpu_hour": 12.5, "gpu_hour": 1})
    (usage,) = waldur.usages
    assert str(usage.resource) == resource
    assert [(u.type_, u.amount) for u in usage.usages] == [("cpu_hour", "12.500000"), ("gpu_hour", "1.000000")]


def test_http_failures_become_adapter_errors(waldur):
    with pytest.raises(AdapterError, match="HTTP 401"):
        WaldurClient(waldur.url, "wrong-token").pending_orders(str(uuid.uuid4()))
    with pytest.raises(AdapterError, match="HTTP 404"):
        WaldurClient(waldur.url, TOKEN).offering(str(uuid.uuid4()))
    with pytest.raises(AdapterError):
        WaldurClient("http://127.0.0.1:9", TOKEN, timeout_s=2).pending_orders(str(uuid.uuid4()))


def test_site_agent_hook_decides_and_fails_closed(world, waldur):
    from waldur_api_client import AuthenticatedClient

    off = waldur.add_offering({"veid_provider_address": world.provider.address, "veid_provider_domain": "gpu.example.org"})
    low = signed_order(waldur, off, world.stranger)
    good = signed_order(waldur, off, world.buyer)
    rest = AuthenticatedClient(base_url=waldur.url, token=TOKEN)
    client = WaldurClient(waldur.url, TOKEN)
    backend = VeidOrderGateMixin()
    assert backend.evaluate_pending_order(client.order(good), rest).value == "pending"  # not configured: hold
    cfg = MarketConfig()
    backend.configure_veid_gate(cfg, OrderGate(cfg, world.chain, world.chain, world.domains))
    assert backend.evaluate_pending_order(client.order(good), rest).value == "accept"
    assert backend.evaluate_pending_order(client.order(low), rest).value == "reject"
    broken = AuthenticatedClient(base_url=waldur.url, token="nope")
    assert backend.evaluate_pending_order(client.order(good), broken).value == "pending"


def test_old_unscored_order_rejected_after_timeout(world, waldur, tmp_path):
    off = waldur.add_offering({"veid_provider_address": world.provider.address, "veid_provider_domain": "gpu.example.org"})
    order_uuid = signed_order(waldur, off, AccountKey.generate())
    waldur.orders[uuid.UUID(order_uuid).hex].created = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
    agent, _ = make_agent(world, waldur, tmp_path)
    (outcome,) = agent.run_offering(off)
    assert outcome.decision.verdict is Verdict.REJECT and waldur.state(order_uuid) == OrderState.REJECTED


def test_slurm_usage_reported_as_component_usage(waldur):
    from hpc_adapter.accounting import JobRecord
    from market_adapter.usage import report_usage

    res_a, res_b = str(uuid.uuid4()), str(uuid.uuid4())
    records = [
        JobRecord("c", "1", "prova", "COMPLETED", 3600, 2, 1_000),  # 2 billing-hours
        JobRecord("c", "2", "prova", "COMPLETED", 1800, 1, 1_500),  # 0.5
        JobRecord("c", "3", "prova", "FAILED", 3600, 8, 1_500),  # not counted
        JobRecord("c", "4", "provb", "COMPLETED", 7200, 1, 5_000),  # outside the period
        JobRecord("c", "5", "provb", "RUNNING", 60, 1, None),
        JobRecord("c", "6", "other", "COMPLETED", 60, 1, 1_000),  # no resource
    ]
    client = WaldurClient(waldur.url, TOKEN)
    totals = report_usage(client, records, {"ProvA": res_a, "provb": res_b}, 0, 2_000)
    assert totals == {res_a: 2.5}
    (usage,) = waldur.usages
    assert str(usage.resource) == res_a
    assert [(u.type_, u.amount) for u in usage.usages] == [("cpu_hour", "2.500000")]
