"""Tests for domain verification against a real local DNS server (dnslib) and a local well-known file server."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dnslib import QTYPE, RR, TXT
from dnslib.server import BaseResolver, DNSServer

from pipelines.scopes.domain import DomainConfig, DomainFailure, DomainMethod, DomainVerifier, normalize_domain
from veid.errors import AdapterError, InputError

SECRET = b"domain-secret-0123456789abcdef"


class _Zone(BaseResolver):
    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}

    def resolve(self, request, handler):
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        if request.q.qtype == QTYPE.TXT and qname in self.txt:
            for value in self.txt[qname]:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        elif qname not in self.txt:
            reply.header.rcode = 3  # NXDOMAIN
        return reply


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def dns_zone():
    zone = _Zone()
    port = _free_udp_port()
    server = DNSServer(zone, port=port, address="127.0.0.1")
    server.start_thread()
    try:
        yield zone, port
    finally:
        server.stop()


def _verifier(port: int) -> DomainVerifier:
    return DomainVerifier(DomainConfig(nameservers=("127.0.0.1",), dns_port=port, timeout_s=2.0), SECRET)


def test_token_bound_to_account_and_domain() -> None:
    v = DomainVerifier(DomainConfig(), SECRET)
    t = v.token("acct-1", "Example.ORG.")
    assert t == v.token("acct-1", "example.org") and len(t) == 32
    assert t != v.token("acct-2", "example.org") and t != v.token("acct-1", "example.net")
    assert v.record_name("example.org") == "_veid-challenge.example.org"
    assert normalize_domain("bücher.example") == "xn--bcher-kva.example"
    for bad in ("localhost", "-bad.example", "a..b", ""):
        with pytest.raises(InputError):
            normalize_domain(bad)


def test_dns_txt_verified(dns_zone) -> None:
    zone, port = dns_zone
    v = _verifier(port)
    zone.txt["_veid-challenge.provider.example"] = ["google-site-verification=zzz", v.record_value("acct-1", "provider.example")]
    res = v.check_dns("acct-1", "provider.example")
    assert res.verified and res.method is DomainMethod.DNS_TXT and res.check().passed


def test_dns_txt_missing(dns_zone) -> None:
    zone, port = dns_zone
    v = _verifier(port)
    res = v.check_dns("acct-1", "nothing.example")
    assert not res.verified and res.failure is DomainFailure.MISSING_RECORD
    zone.txt["_veid-challenge.other.example"] = ["unrelated text"]
    assert v.check_dns("acct-1", "other.example").failure is DomainFailure.MISSING_RECORD


def test_dns_txt_wrong_token(dns_zone) -> None:
    zone, port = dns_zone
    v = _verifier(port)
    # Another account's token on this domain does not verify this account.
    zone.txt["_veid-challenge.provider.example"] = [v.record_value("acct-2", "provider.example")]
    res = v.check_dns("acct-1", "provider.example")
    assert not res.verified and res.failure is DomainFailure.WRONG_TOKEN
    assert res.check().reason == "wrong_token"


def test_dns_unreachable_is_adapter_error() -> None:
    cfg = DomainConfig(nameservers=("127.0.0.1",), dns_port=_free_udp_port(), timeout_s=0.5)  # nothing listens
    v = DomainVerifier(cfg, SECRET)
    with pytest.raises(AdapterError):
        v.check_dns("acct-1", "provider.example")


@pytest.fixture()
def well_known():
    files: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path.startswith("/redirect/"):
                self.send_response(302)
                self.send_header("Location", self.path.replace("/redirect/", "/", 1))
                self.end_headers()
                return
            body = files.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield files, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_https_well_known_alternative(well_known) -> None:
    files, port = well_known
    cfg = DomainConfig(well_known_url=f"http://127.0.0.1:{port}/{{domain}}/.well-known/veid-verification.txt")
    v = DomainVerifier(cfg, SECRET)
    assert v.check_https("acct-1", "shop.example").failure is DomainFailure.MISSING_RECORD
    files["/shop.example/.well-known/veid-verification.txt"] = v.token("acct-9", "shop.example")
    assert v.check_https("acct-1", "shop.example").failure is DomainFailure.WRONG_TOKEN
    files["/shop.example/.well-known/veid-verification.txt"] = v.token("acct-1", "shop.example") + "\n"
    res = v.check_https("acct-1", "shop.example")
    assert res.verified and res.method is DomainMethod.HTTPS_WELL_KNOWN
    # A redirect to a valid file is not followed: the domain itself must serve the token.
    redirecting = DomainVerifier(DomainConfig(
        well_known_url=f"http://127.0.0.1:{port}/redirect/{{domain}}/.well-known/veid-verification.txt"), SECRET)
    assert redirecting.check_https("acct-1", "shop.example").failure is DomainFailure.MISSING_RECORD
    with pytest.raises(InputError):
        DomainVerifier(DomainConfig(well_known_url="http://{domain}/x"), SECRET).check_https("a", "shop.example")
