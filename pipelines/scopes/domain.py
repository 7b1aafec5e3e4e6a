"""Domain ownership for providers: a DNS TXT record (or an HTTPS well-known file) carrying a token bound to the account.

The token is ``HMAC-SHA256(secret, account_id | domain)`` in base32, so it cannot be reused for
another account or another domain and needs no storage. The provider publishes either

* a TXT record ``veid-verification=<token>`` at ``_veid-challenge.<domain>``, or
* the file ``https://<domain>/.well-known/veid-verification.txt`` containing ``<token>``.

A missing or wrong record is a :class:`DomainResult` with a :class:`DomainFailure`; a DNS or
HTTP infrastructure failure (timeout, no nameserver) is an :class:`~veid.errors.AdapterError`.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import urllib.error
import urllib.request
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.resolver

from veid.errors import AdapterError, InputError
from veid.types import CheckResult

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class DomainMethod(str, enum.Enum):
    """How ownership was shown."""

    DNS_TXT = "dns_txt"
    HTTPS_WELL_KNOWN = "https_well_known"


class DomainFailure(str, enum.Enum):
    """Why a domain was not verified."""

    MISSING_RECORD = "missing_record"
    WRONG_TOKEN = "wrong_token"


@dataclass(frozen=True)
class DomainConfig:
    """Domain verification settings (``params.yaml`` ``scopes.domain``).

    Attributes:
        record_prefix: the label in front of the domain that holds the TXT record.
        txt_key: the ``key=`` in front of the token inside the TXT string.
        well_known_url: URL template of the file alternative; ``{domain}`` is filled in.
        nameservers: resolver addresses; empty means the system resolver.
        dns_port: port of those nameservers.
        timeout_s: DNS lifetime and HTTP timeout, in seconds.
    """

    record_prefix: str = "_veid-challenge"
    txt_key: str = "veid-verification"
    well_known_url: str = "https://{domain}/.well-known/veid-verification.txt"
    nameservers: tuple[str, ...] = ()
    dns_port: int = 53
    timeout_s: float = 5.0


@dataclass(frozen=True)
class DomainResult:
    """Outcome of one domain check (the scorer's ``domain`` scope)."""

    verified: bool
    method: DomainMethod
    failure: DomainFailure | None = None

    def check(self) -> CheckResult:
        return CheckResult(f"domain.{self.method.value}", self.verified, 1.0 if self.verified else 0.0,
                           "verified" if self.verified else self.failure.value if self.failure else "failed")


def normalize_domain(domain: str) -> str:
    """Lower-case, IDNA-encode and validate a domain name (no trailing dot).

    Raises:
        InputError: not a syntactically valid domain with at least two labels.
    """
    try:
        ascii_name = domain.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InputError(f"not a valid domain name: {exc}") from exc
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise InputError("not a valid domain name")
    return ascii_name


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: the file must be served by the domain itself, not wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 (urllib signature)
        raise urllib.error.HTTPError(req.full_url, 403, "redirects are not followed", headers, fp)


class DomainVerifier:
    """Issues account-bound tokens and checks them over DNS or HTTPS."""

    def __init__(self, cfg: DomainConfig, secret: bytes) -> None:
        if len(secret) < 16:
            raise InputError("domain token secret must be at least 16 bytes")
        self.cfg = cfg
        self._secret = secret

    def token(self, account_id: str, domain: str) -> str:
        """The token ``account_id`` must publish for ``domain`` (32 base32 characters, lower case)."""
        if not account_id:
            raise InputError("account_id is empty")
        mac = hmac.new(self._secret, f"{account_id}|{normalize_domain(domain)}".encode(), hashlib.sha256).digest()
        return base64.b32encode(mac[:20]).decode("ascii").lower()

    def record_name(self, domain: str) -> str:
        """Where the TXT record goes, e.g. ``_veid-challenge.example.org``."""
        return f"{self.cfg.record_prefix}.{normalize_domain(domain)}"

    def record_value(self, account_id: str, domain: str) -> str:
        """The TXT string to publish, e.g. ``veid-verification=abc...``."""
        return f"{self.cfg.txt_key}={self.token(account_id, domain)}"

    def _resolver(self) -> dns.resolver.Resolver:
        if not self.cfg.nameservers:
            res = dns.resolver.Resolver()
        else:
            res = dns.resolver.Resolver(configure=False)
            res.nameservers = list(self.cfg.nameservers)
        res.port = self.cfg.dns_port
        res.lifetime = self.cfg.timeout_s
        return res

    def check_dns(self, account_id: str, domain: str) -> DomainResult:
        """Look up the TXT record and compare its token in constant time.

        Raises:
            AdapterError: the resolver timed out or no nameserver answered.
        """
        expected = self.token(account_id, domain)
        qname = self.record_name(domain)
        try:
            answer = self._resolver().resolve(qname, "TXT", raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return DomainResult(False, DomainMethod.DNS_TXT, DomainFailure.MISSING_RECORD)
        except (dns.resolver.NoNameservers, dns.exception.Timeout, dns.resolver.LifetimeTimeout) as exc:
            raise AdapterError(f"DNS lookup of the verification record failed: {exc}") from exc
        found = False
        ok = False
        for rdata in answer.rrset or []:
            text = b"".join(rdata.strings).decode("utf-8", "replace").strip()
            key, sep, value = text.partition("=")
            if sep and key.strip() == self.cfg.txt_key:
                found = True
                ok |= hmac.compare_digest(value.strip().lower().encode(), expected.encode())
        if ok:
            return DomainResult(True, DomainMethod.DNS_TXT)
        return DomainResult(False, DomainMethod.DNS_TXT,
                            DomainFailure.WRONG_TOKEN if found else DomainFailure.MISSING_RECORD)

    def check_https(self, account_id: str, domain: str) -> DomainResult:
        """Fetch the well-known file and compare its token in constant time.

        A 404 (or any 4xx) is a missing record, and so is a redirect (never followed); other
        transport failures raise.

        Raises:
            AdapterError: the server could not be reached or answered 5xx.
        """
        expected = self.token(account_id, domain)
        url = self.cfg.well_known_url.format(domain=normalize_domain(domain))
        if not url.startswith("https://") and not url.startswith(("http://127.0.0.1", "http://localhost")):
            raise InputError("the well-known file must be fetched over HTTPS")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(url, timeout=self.cfg.timeout_s) as resp:  # scheme checked above
                body = resp.read(4096).decode("utf-8", "replace").strip()
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500:
                return DomainResult(False, DomainMethod.HTTPS_WELL_KNOWN, DomainFailure.MISSING_RECORD)
            raise AdapterError(f"well-known file: server error {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise AdapterError(f"well-known file: cannot fetch: {exc}") from exc
        if hmac.compare_digest(body.lower().encode(), expected.encode()):
            return DomainResult(True, DomainMethod.HTTPS_WELL_KNOWN)
        return DomainResult(False, DomainMethod.HTTPS_WELL_KNOWN, DomainFailure.WRONG_TOKEN)
