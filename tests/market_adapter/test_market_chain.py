"""`veid market` against the embedded chain, a local DNS zone and the local Waldur API: real roles, scores, signatures."""

from __future__ import annotations

import json
import socket
import uuid

import pytest
from click.testing import CliRunner
from dnslib import QTYPE, RR, TXT
from dnslib.server import BaseResolver, DNSServer
from waldur_api_client.models.order_details_attributes import OrderDetailsAttributes
from waldur_api_client.models.order_state import OrderState
from waldur_server import TOKEN, FakeWaldur

from attest.adr036 import sign_adr036
from attest.envelope import open_envelope
from attest.keys import AccountKey, Ed25519Key, X25519Key
from hpc_adapter.chain import Role
from market_adapter.cli import market
from pipelines.scopes.domain import DomainConfig, DomainVerifier

SECRET = b"market-domain-secret-0123456789"
DOMAIN = "gpu.example.org"


class _Zone(BaseResolver):
    def __init__(self):
        self.txt = {}

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if request.q.qtype == QTYPE.TXT and name in self.txt:
            reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(self.txt[name]), ttl=60))
        else:
            reply.header.rcode = 3
        return reply


@pytest.fixture()
def dns_zone():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    zone = _Zone()
    server = DNSServer(zone, port=port, address="127.0.0.1")
    server.start_thread()
    yield zone, port
    server.stop()


def _sign(server, order_uuid, key, claim=None):
    attrs = {"veid_address": claim or key.address, "veid_signature": json.dumps(sign_adr036(key, order_uuid.encode(), key.address))}
    server.orders[uuid.UUID(order_uuid).hex].attributes = OrderDetailsAttributes.from_dict(attrs)


def test_orders_cli_on_real_chain(local_chain, dns_zone, tmp_path, monkeypatch):
    zone, port = dns_zone
    provider, buyer, low = AccountKey.generate(), AccountKey.generate(), AccountKey.generate()
    local_chain.grant(provider.address, Role.SERVICE_PROVIDER)
    local_chain.set_score(buyer.address, 80)
    local_chain.set_score(low.address, 40)
    assert Role.SERVICE_PROVIDER in local_chain.roles(provider.address).roles
    verifier = DomainVerifier(DomainConfig(), SECRET)
    zone.txt[verifier.record_name(DOMAIN)] = verifier.record_value(provider.address, DOMAIN)

    provider_x, sender = X25519Key.generate(), Ed25519Key.generate()
    (tmp_path / "sender.key").write_text(sender.private_key_bytes.hex())
    params = tmp_path / "params.yaml"
    params.write_text(f"market:\n  outbox_dir: {tmp_path / 'outbox'}\n")
    monkeypatch.setenv("WALDUR_TOKEN", TOKEN)
    monkeypatch.setenv("VEID_DOMAIN_SECRET", SECRET.decode())
    with FakeWaldur() as waldur:
        off = waldur.add_offering({"veid_provider_address": provider.address, "veid_provider_domain": DOMAIN})
        good, bad = waldur.add_order(off, {}), waldur.add_order(off, {})
        _sign(waldur, good, buyer)
        _sign(waldur, bad, low)
        args = ["orders", "--params", str(params), "--chain-home", str(local_chain.home), "--grpc", local_chain.address,
                "--offering", off, "--waldur-url", waldur.url, "--provider-key", provider_x.public_key_bytes.hex(),
                "--sender-key-file", str(tmp_path / "sender.key"), "--nameserver", "127.0.0.1", "--dns-port", str(port)]
        result = CliRunner().invoke(market, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert waldur.state(good) == OrderState.EXECUTING
        assert waldur.state(bad) == OrderState.REJECTED
        assert "below the offering minimum 70" in waldur.orders[uuid.UUID(bad).hex].provider_rejection_comment
        assert f"{good}  accept" in result.output and f"{bad}  reject" in result.output
        details = json.loads(open_envelope((tmp_path / "outbox" / f"{good}.ven").read_bytes(), provider_x))
        assert details["buyer_address"] == buyer.address

        # Without the TXT record the provider is not verified: new orders are rejected with that reason.
        zone.txt.clear()
        later = waldur.add_order(off, {})
        _sign(waldur, later, buyer)
        result = CliRunner().invoke(market, args, catch_exceptions=False)
        assert waldur.state(later) == OrderState.REJECTED
        assert "provider domain gpu.example.org not verified" in waldur.orders[uuid.UUID(later).hex].provider_rejection_comment


def test_bid_cli_on_real_chain(local_chain, tmp_path):
    provider, buyer = AccountKey.generate(), AccountKey.generate()
    local_chain.grant(provider.address, Role.SERVICE_PROVIDER)
    local_chain.set_score(buyer.address, 90)
    orders = [{"order_id": "o-1", "buyer_address": buyer.address, "quantities": {"gpu_hour": 2}},
              {"order_id": "o-2", "buyer_address": AccountKey.generate().address, "quantities": {"gpu_hour": 2}}]
    (tmp_path / "orders.json").write_text(json.dumps(orders))
    result = CliRunner().invoke(market, ["bid", str(tmp_path / "orders.json"), "--provider", provider.address,
                                         "--chain-home", str(local_chain.home), "--grpc", local_chain.address],
                                catch_exceptions=False)  # fmt: skip
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["o-1", "BID", "5.0000"]
    assert lines[1].split()[:2] == ["o-2", "no"] and "no on-chain score" in lines[1]
