"""Provider domain checks for the order gate, on pipelines.scopes.domain (DNS TXT first, then the HTTPS well-known file)."""

from __future__ import annotations

from typing import Any

from veid.errors import AdapterError, InputError
from veid.types import CheckResult


class DnsDomainChecker:
    """:class:`~market_adapter.gate.DomainChecker` backed by a ``pipelines.scopes.domain.DomainVerifier``.

    Args:
        verifier: issues and checks account-bound tokens (it holds the token secret).
        try_https: also accept the HTTPS well-known file when the TXT record is missing.
    """

    def __init__(self, verifier: Any, try_https: bool = True) -> None:
        self.verifier = verifier
        self.try_https = try_https

    def check(self, address: str, domain: str) -> CheckResult:
        """DNS TXT, then (if missing) HTTPS; an invalid domain name is a failed check, not an error.

        Raises:
            AdapterError: DNS itself failed (timeout, no nameserver): no judgement possible.
        """
        try:
            result = self.verifier.check_dns(address, domain)
        except InputError as exc:
            return CheckResult("provider.domain", False, 0.0, f"invalid domain: {exc}")
        check = result.check()
        reason = f"{check.name}: {check.reason}"
        if not result.verified and self.try_https:
            # DNS answered "no valid record"; an unreachable well-known file proves nothing either.
            try:
                https = self.verifier.check_https(address, domain)
            except AdapterError as exc:
                return CheckResult("provider.domain", False, 0.0, f"{reason}; https: unreachable ({exc})")
            if https.verified:
                check = https.check()
                reason = f"{check.name}: {check.reason}"
            else:
                reason += f"; {https.check().name}: {https.check().reason}"
        return CheckResult("provider.domain", check.passed, check.score, reason)
