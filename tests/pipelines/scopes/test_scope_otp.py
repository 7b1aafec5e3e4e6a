"""Tests for one-time codes: a real local SMTP server (aiosmtpd), expiry, wrong codes, attempt limits."""

from __future__ import annotations

import email
import io
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from pipelines.scopes.otp import Channel, ConsoleSender, HttpSmsSender, OtpConfig, OtpService, SmtpSender
from veid.errors import AdapterError, InputError

SECRET = b"0123456789abcdef0123456789abcdef"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp_inbox():
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class _Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def _code(text: str) -> str:
    return re.search(r"code is (\d+)", text).group(1)


def test_smtp_delivery_and_verify(smtp_inbox) -> None:
    inbox, port = smtp_inbox
    svc = OtpService(OtpConfig(), SECRET, SmtpSender("127.0.0.1", port, from_addr="veid@example.org"))
    ch = svc.issue(Channel.EMAIL, "alice@example.org")
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["To"] == "alice@example.org"
    code = _code(msg.get_payload())
    assert len(code) == 6
    res = svc.verify(ch.challenge_id, code)
    assert res.passed and res.name == "otp.email"
    assert not svc.verify(ch.challenge_id, code).passed  # single use
    ev = svc.evidence(Channel.EMAIL, " Alice@Example.org ")
    assert ev is not None and ev.verified and ev.codes_sent == 1 and ev.failed_attempts == 0


def test_smtp_unreachable_is_adapter_error() -> None:
    svc = OtpService(OtpConfig(), SECRET, SmtpSender("127.0.0.1", _free_port(), timeout_s=2))
    with pytest.raises(AdapterError):
        svc.issue(Channel.EMAIL, "bob@example.org")


def _console_service(clock, cfg=OtpConfig()):
    out = io.StringIO()
    return OtpService(cfg, SECRET, ConsoleSender(out), clock=clock), out


def test_expired_code() -> None:
    clock = _Clock()
    svc, out = _console_service(clock)
    ch = svc.issue(Channel.SMS, "+49 170 0000000")
    assert "+49" not in out.getvalue()  # destination is redacted in the console log
    clock.t += 601
    res = svc.verify(ch.challenge_id, _code(out.getvalue()))
    assert not res.passed and res.reason == "expired"


def test_wrong_code_then_lockout() -> None:
    clock = _Clock()
    svc, out = _console_service(clock, OtpConfig(max_attempts=3))
    ch = svc.issue(Channel.SMS, "+15550000000")
    right = _code(out.getvalue())
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    r1 = svc.verify(ch.challenge_id, wrong)
    assert not r1.passed and r1.reason.startswith("wrong_code") and "2 left" in r1.reason
    assert svc.verify(ch.challenge_id, "12ab").reason.startswith("malformed_code")
    assert svc.verify(ch.challenge_id, wrong).reason == "locked"
    # Once locked, even the right code is refused.
    assert svc.verify(ch.challenge_id, right).reason == "locked"
    ev = svc.evidence(Channel.SMS, "+1 555 000 0000")
    assert ev is not None and ev.locked_out and not ev.verified and ev.failed_attempts == 3


def test_unknown_challenge_and_send_limit() -> None:
    clock = _Clock()
    svc, _ = _console_service(clock, OtpConfig(max_sends_per_destination=2, send_window_s=60))
    assert svc.verify("nope", "123456").reason == "unknown_challenge"
    svc.issue(Channel.EMAIL, "c@example.org")
    svc.issue(Channel.EMAIL, "c@example.org")
    with pytest.raises(InputError):
        svc.issue(Channel.EMAIL, "c@example.org")
    clock.t += 61
    svc.issue(Channel.EMAIL, "c@example.org")


def test_config_and_secret_validation() -> None:
    with pytest.raises(ValueError):
        OtpConfig(digits=4)
    with pytest.raises(InputError):
        OtpService(OtpConfig(), b"short", ConsoleSender(io.StringIO()))


def test_http_sms_gateway() -> None:
    received: list[tuple[str, dict]] = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append((self.headers.get("Authorization"), json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(202 if self.headers.get("Authorization") == "Bearer t0k" else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/sms"
        svc = OtpService(OtpConfig(), SECRET, HttpSmsSender(url, token="t0k"))
        ch = svc.issue(Channel.SMS, "+15550001111")
        auth, payload = received[0]
        assert auth == "Bearer t0k" and payload["to"] == "+15550001111"
        assert svc.verify(ch.challenge_id, _code(payload["body"])).passed
        with pytest.raises(AdapterError):  # the gateway refuses a wrong token
            OtpService(OtpConfig(), SECRET, HttpSmsSender(url, token="bad")).issue(Channel.SMS, "+15550001111")
        with pytest.raises(InputError):
            HttpSmsSender("http://gateway.example/sms").send(Channel.SMS, "+1", "s", "b")
    finally:
        server.shutdown()
        server.server_close()
