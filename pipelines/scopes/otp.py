"""One-time codes for email and SMS: issue, send, verify with expiry, attempt limits and constant-time comparison.

Codes are never stored in clear: a challenge keeps ``HMAC-SHA256(secret, challenge_id | code)``
and a submitted code is compared with :func:`hmac.compare_digest`. Time is injectable
(``clock``) so that tests can expire codes without sleeping.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
import smtplib
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Callable, Protocol, TextIO

from veid.errors import AdapterError, InputError
from veid.logs import get_logger, redact
from veid.types import CheckResult

log = get_logger(__name__)


class Channel(str, enum.Enum):
    """Where a code is delivered."""

    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class OtpConfig:
    """One-time code policy (``params.yaml`` ``scopes.otp``).

    Attributes:
        digits: code length in decimal digits (6 to 10).
        ttl_s: seconds a code stays valid after it is issued.
        max_attempts: wrong submissions allowed before the challenge is locked.
        max_sends_per_destination: codes that may be issued to one destination per ``send_window_s``.
        send_window_s: window of the send limit, in seconds.
    """

    digits: int = 6
    ttl_s: float = 600.0
    max_attempts: int = 5
    max_sends_per_destination: int = 5
    send_window_s: float = 3600.0

    def __post_init__(self) -> None:
        if not 6 <= self.digits <= 10:
            raise ValueError(f"digits must lie in 6..10, got {self.digits}")
        if self.ttl_s <= 0 or self.max_attempts < 1 or self.max_sends_per_destination < 1:
            raise ValueError("ttl_s, max_attempts and max_sends_per_destination must be positive")


class Sender(Protocol):
    """Delivers a one-time code message to a destination (an address or a phone number)."""

    def send(self, channel: Channel, destination: str, subject: str, body: str) -> None:
        """Deliver ``body``; raise :class:`~veid.errors.AdapterError` when delivery failed."""


@dataclass(frozen=True)
class ConsoleSender:
    """Development sender: writes the message to a stream (stderr by default). Never use in production."""

    stream: TextIO | None = None

    def send(self, channel: Channel, destination: str, subject: str, body: str) -> None:
        out = self.stream if self.stream is not None else sys.stderr
        out.write(f"[{channel.value} to {redact(destination)}] {subject}: {body}\n")
        out.flush()


@dataclass(frozen=True)
class SmtpSender:
    """Sends email codes through an SMTP server (``smtplib``), optionally with STARTTLS and login.

    Attributes:
        host, port: the SMTP server.
        from_addr: envelope and header sender.
        starttls: upgrade the connection with STARTTLS before sending.
        username, password: login when both are set.
        timeout_s: connection timeout in seconds.
    """

    host: str
    port: int = 25
    from_addr: str = "no-reply@veid.invalid"
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0

    def send(self, channel: Channel, destination: str, subject: str, body: str) -> None:
        if channel is not Channel.EMAIL:
            raise InputError(f"SmtpSender delivers email only, not {channel.value}")
        msg = EmailMessage()
        msg["From"] = self.from_addr
        msg["To"] = destination
        msg["Subject"] = subject
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise AdapterError(f"SMTP delivery via {self.host}:{self.port} failed: {exc}") from exc


@dataclass(frozen=True)
class HttpSmsSender:
    """Sends SMS codes through an HTTP(S) gateway webhook: ``POST url`` with JSON ``{"to", "body"}``.

    A generic adapter for SMS gateways that accept a JSON POST with a bearer token; provider-specific
    payloads (Twilio, MessageBird...) need their own small sender. Plain HTTP only to loopback (tests).

    Attributes:
        url: the gateway endpoint.
        token: bearer token sent in ``Authorization`` (``None``: no header).
        timeout_s: request timeout in seconds.
    """

    url: str
    token: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0

    def send(self, channel: Channel, destination: str, subject: str, body: str) -> None:
        if channel is not Channel.SMS:
            raise InputError(f"HttpSmsSender delivers SMS only, not {channel.value}")
        parts = urllib.parse.urlsplit(self.url)
        if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost"))):
            raise InputError("the SMS gateway must be reached over HTTPS")
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url, json.dumps({"to": destination, "body": body}).encode(), headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 (scheme checked)
                resp.read(1024)
        except (urllib.error.URLError, OSError) as exc:
            raise AdapterError(f"SMS gateway delivery failed: {exc}") from exc


@dataclass(frozen=True)
class OtpChallenge:
    """An issued code, as the caller sees it (the code itself is not here)."""

    challenge_id: str
    channel: Channel
    issued_at: float
    expires_at: float


@dataclass
class _State:
    channel: Channel
    destination_tag: str
    digest: bytes
    issued_at: float
    expires_at: float
    attempts: int = 0
    used: bool = False


@dataclass(frozen=True)
class OtpEvidence:
    """What the OTP scope proved for one destination (the scorer's ``email``/``sms`` scope)."""

    verified: bool
    codes_sent: int
    failed_attempts: int
    locked_out: bool


class OtpService:
    """Issues codes through a :class:`Sender` and verifies them; state lives in this instance only."""

    def __init__(self, cfg: OtpConfig, secret: bytes, sender: Sender,
                 clock: Callable[[], float] = time.time) -> None:
        """Args:
            cfg: code policy.
            secret: HMAC key (at least 16 bytes) protecting stored codes.
            sender: delivery channel.
            clock: returns the current time in seconds since the epoch.
        """
        if len(secret) < 16:
            raise InputError("OTP secret must be at least 16 bytes")
        self.cfg = cfg
        self._secret = secret
        self._sender = sender
        self._clock = clock
        self._challenges: dict[str, _State] = {}
        self._sends: dict[str, list[float]] = {}
        self._evidence: dict[str, dict[str, int | bool]] = {}

    def _digest(self, challenge_id: str, code: str) -> bytes:
        return hmac.new(self._secret, f"{challenge_id}|{code}".encode(), hashlib.sha256).digest()

    def _tag(self, channel: Channel, destination: str) -> str:
        norm = destination.strip().lower() if channel is Channel.EMAIL else "".join(destination.split())
        return hmac.new(self._secret, f"{channel.value}|{norm}".encode(), hashlib.sha256).hexdigest()

    def issue(self, channel: Channel, destination: str) -> OtpChallenge:
        """Create a code, deliver it, and return the challenge handle.

        Raises:
            InputError: empty destination, or too many codes sent to it within the window.
            AdapterError: the sender could not deliver the message.
        """
        if not destination or not destination.strip():
            raise InputError("destination is empty")
        now = self._clock()
        tag = self._tag(channel, destination)
        recent = [t for t in self._sends.get(tag, []) if now - t < self.cfg.send_window_s]
        if len(recent) >= self.cfg.max_sends_per_destination:
            raise InputError(f"too many codes sent to this destination in {self.cfg.send_window_s:.0f} s")
        code = f"{secrets.randbelow(10 ** self.cfg.digits):0{self.cfg.digits}d}"
        challenge_id = secrets.token_urlsafe(16)
        minutes = max(1, round(self.cfg.ttl_s / 60))
        self._sender.send(channel, destination, "Your VEID verification code",
                          f"Your code is {code}. It expires in {minutes} minutes.")
        self._sends[tag] = recent + [now]
        self._challenges[challenge_id] = _State(channel, tag, self._digest(challenge_id, code),
                                                now, now + self.cfg.ttl_s)
        ev = self._evidence.setdefault(tag, {"verified": False, "codes_sent": 0, "failed": 0, "locked": False})
        ev["codes_sent"] = int(ev["codes_sent"]) + 1
        log.info("otp issued on %s to %s", channel.value, redact(destination))
        return OtpChallenge(challenge_id, channel, now, now + self.cfg.ttl_s)

    def verify(self, challenge_id: str, code: str) -> CheckResult:
        """Check a submitted code; every outcome is a :class:`CheckResult` (name ``otp.<channel>``).

        Reasons on failure: ``unknown_challenge``, ``already_used``, ``locked``, ``expired``,
        ``wrong_code`` (with the attempts left), ``malformed_code``.
        """
        state = self._challenges.get(challenge_id)
        if state is None:
            return CheckResult("otp", False, 0.0, "unknown_challenge")
        name = f"otp.{state.channel.value}"
        ev = self._evidence[state.destination_tag]
        if state.used:
            return CheckResult(name, False, 0.0, "already_used")
        if state.attempts >= self.cfg.max_attempts:
            return CheckResult(name, False, 0.0, "locked")
        if self._clock() >= state.expires_at:
            return CheckResult(name, False, 0.0, "expired")
        state.attempts += 1
        candidate = code.strip()
        well_formed = len(candidate) == self.cfg.digits and candidate.isascii() and candidate.isdigit()
        # Compare digests even for malformed input so timing does not depend on the input's shape.
        ok = hmac.compare_digest(self._digest(challenge_id, candidate), state.digest) and well_formed
        if ok:
            state.used = True
            ev["verified"] = True
            return CheckResult(name, True, 1.0, "verified")
        ev["failed"] = int(ev["failed"]) + 1
        if state.attempts >= self.cfg.max_attempts:
            ev["locked"] = True
            return CheckResult(name, False, 0.0, "locked")
        left = self.cfg.max_attempts - state.attempts
        return CheckResult(name, False, 0.0, f"{'wrong_code' if well_formed else 'malformed_code'} ({left} left)")

    def evidence(self, channel: Channel, destination: str) -> OtpEvidence | None:
        """Summary of every challenge sent to ``destination`` (``None`` if none was issued)."""
        ev = self._evidence.get(self._tag(channel, destination))
        if ev is None:
            return None
        return OtpEvidence(bool(ev["verified"]), int(ev["codes_sent"]), int(ev["failed"]), bool(ev["locked"]))
