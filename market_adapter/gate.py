"""The pending-order decision: accept, reject or hold a marketplace order from on-chain identity facts.

An order is accepted only when (1) the provider is a service provider on chain with a
verified domain, (2) the buyer proves ownership of the chain address named in the order
with an ADR-036 signature over the order UUID, and (3) the buyer's on-chain score meets the
offering's minimum. A definitive failure rejects with a reason; a buyer not scored yet, or
a chain that cannot be asked, holds the order pending (until ``pending_timeout_s``).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hpc_adapter.chain import Role, RoleReader, ScoreReader
from veid.errors import AdapterError, ChainError, ConfigError, CryptoError
from veid.types import CheckResult


class Verdict(enum.Enum):
    """Values match waldur-site-agent's ``PendingOrderDecision``."""

    ACCEPT = "accept"
    REJECT = "reject"
    PENDING = "pending"


@dataclass(frozen=True)
class BidConfig:
    """``market.bids``: the provider bid engine.

    Attributes:
        unit_prices: price per unit of each offered component (``{"cpu_hour": 0.04}``), in ``currency``.
        currency: unit of the prices.
        capabilities: what the provider offers (``{"gpu": "h100", "region": "eu"}``), matched to order attributes.
        min_buyer_score: the provider never bids for buyers below this on-chain score.
        max_units: largest quantity of one component the provider takes in one order.
    """

    unit_prices: dict[str, float] = field(default_factory=lambda: {"cpu_hour": 0.04, "gpu_hour": 2.5, "gb_month": 0.02})
    currency: str = "uve"
    capabilities: dict[str, str] = field(default_factory=dict)
    min_buyer_score: int = 70
    max_units: float = 1_000_000.0


@dataclass(frozen=True)
class MarketConfig:
    """``market`` section of params.yaml.

    Attributes:
        default_min_score: buyer score required when the offering sets none (0..100).
        pending_timeout_s: a held order older than this is rejected instead, seconds.
        waldur_url: Waldur API root (token from the ``WALDUR_TOKEN`` environment variable).
        offering_uuids: offerings the agent processes.
        timeout_s: HTTP timeout, seconds.
        outbox_dir: where sealed order details for the provider are written.
        buyer_address_attr: order attribute holding the buyer's chain address.
        buyer_signature_attr: order attribute holding the ADR-036 signature over the order UUID.
        buyer_key_attr: order attribute holding the buyer's X25519 public key (base64) for deliveries.
        min_score_attr: offering attribute overriding ``default_min_score``.
        provider_address_attr: offering attribute naming the provider's chain address.
        provider_domain_attr: offering attribute naming the provider's domain.
        bids: :class:`BidConfig`.
    """

    default_min_score: int = 70
    pending_timeout_s: int = 3 * 24 * 3600
    waldur_url: str = "http://127.0.0.1:8000/api/"
    offering_uuids: tuple[str, ...] = ()
    timeout_s: float = 30.0
    outbox_dir: str = "data/market/outbox"
    buyer_address_attr: str = "veid_address"
    buyer_signature_attr: str = "veid_signature"
    buyer_key_attr: str = "veid_encryption_key"
    min_score_attr: str = "veid_min_score"
    provider_address_attr: str = "veid_provider_address"
    provider_domain_attr: str = "veid_provider_domain"
    bids: BidConfig = field(default_factory=BidConfig)

    def __post_init__(self) -> None:
        if not 0 <= self.default_min_score <= 100:
            raise ConfigError("market.default_min_score must be within 0..100")
        if self.pending_timeout_s <= 0:
            raise ConfigError("market.pending_timeout_s must be positive")


@dataclass(frozen=True)
class OrderFacts:
    """What the gate needs from an order (extracted from Waldur's ``OrderDetails``).

    Attributes:
        order_uuid: the order's UUID, hyphenated lowercase; the buyer signs exactly these ASCII bytes.
        buyer_address: chain address the buyer claims (``""`` when absent).
        buyer_signature: ADR-036 StdSignature mapping, or ``None`` when absent.
        created_at: creation time, Unix seconds (``None`` when unknown).
        attributes: the order's other attributes (for bid matching).
    """

    order_uuid: str
    buyer_address: str
    buyer_signature: Mapping[str, Any] | None
    created_at: float | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OfferingFacts:
    """What the gate needs from an offering: provider identity and the buyer score minimum (0..100)."""

    offering_uuid: str
    provider_address: str
    provider_domain: str
    min_score: int


@dataclass(frozen=True)
class OrderDecision:
    """The gate's decision, with every check that led to it and a one-line reason."""

    verdict: Verdict
    reason: str
    checks: tuple[CheckResult, ...]


class DomainChecker(Protocol):
    """Confirms that ``address`` has proven control of ``domain``."""

    def check(self, address: str, domain: str) -> CheckResult:
        """A passed or failed check.

        Raises:
            AdapterError: DNS/HTTPS could not be queried (no judgement possible).
        """


class SignatureVerifier(Protocol):
    """``verify_adr036``'s signature: returns nothing, raises CryptoError."""

    def __call__(self, signer_address: str, data: bytes, signature_dict: dict[str, Any]) -> None: ...


def _default_verifier() -> SignatureVerifier:
    from attest.adr036 import verify_adr036

    return verify_adr036


class OrderGate:
    """``OrderGate(cfg, scores, roles, domains)(order, offering) -> OrderDecision``.

    Args:
        cfg: :class:`MarketConfig`.
        scores: on-chain scores.
        roles: on-chain roles.
        domains: domain-ownership checks for providers.
        verify_signature: ADR-036 verifier (default: :func:`attest.adr036.verify_adr036`).
        clock: current time, Unix seconds (injectable for tests).
    """

    def __init__(
        self,
        cfg: MarketConfig,
        scores: ScoreReader,
        roles: RoleReader,
        domains: DomainChecker,
        verify_signature: SignatureVerifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.scores = scores
        self.roles = roles
        self.domains = domains
        self.verify_signature = verify_signature or _default_verifier()
        self.clock = clock

    def __call__(self, order: OrderFacts, offering: OfferingFacts) -> OrderDecision:
        checks: list[CheckResult] = []
        try:
            provider = self._provider(offering, checks)
            if provider is not None:
                return self._finish(Verdict.REJECT, provider, checks)
            buyer = self._buyer(order, offering, checks)
        except ChainError as exc:
            return self._hold(order, f"chain unavailable: {exc}", checks)
        except AdapterError as exc:  # the domain check could not be made (DNS down)
            return self._hold(order, f"provider domain check unavailable: {exc}", checks)
        if buyer is None:
            return self._finish(Verdict.ACCEPT, "buyer and provider verified", checks)
        verdict, reason = buyer
        if verdict is Verdict.PENDING:
            return self._hold(order, reason, checks)
        return self._finish(verdict, reason, checks)

    # Each step appends its CheckResult and returns None (passed) or the reason it failed.
    def _provider(self, offering: OfferingFacts, checks: list[CheckResult]) -> str | None:
        if not offering.provider_address:
            checks.append(CheckResult("provider.address", False, 0.0, "offering names no provider chain address"))
            return "offering names no provider chain address"
        info = self.roles.roles(offering.provider_address)
        is_sp = Role.SERVICE_PROVIDER in info.roles
        checks.append(CheckResult("provider.role", is_sp, float(is_sp), "service provider" if is_sp else "not a service provider"))
        if not is_sp:
            return "provider is not a verified service provider on chain"
        if not offering.provider_domain:
            checks.append(CheckResult("provider.domain", False, 0.0, "offering names no provider domain"))
            return "provider has no verified domain"
        domain = self.domains.check(offering.provider_address, offering.provider_domain)
        checks.append(domain)
        if not domain.passed:
            return f"provider domain {offering.provider_domain} not verified ({domain.reason})"
        return None

    def _buyer(
        self, order: OrderFacts, offering: OfferingFacts, checks: list[CheckResult]
    ) -> tuple[Verdict, str] | None:
        if not order.buyer_address or not order.buyer_signature:
            checks.append(CheckResult("buyer.ownership", False, 0.0, "no chain address or signature in the order"))
            return Verdict.REJECT, "buyer did not prove a chain address (order attributes lack address or signature)"
        try:
            self.verify_signature(order.buyer_address, order.order_uuid.encode("ascii"), dict(order.buyer_signature))
        except CryptoError as exc:
            checks.append(CheckResult("buyer.ownership", False, 0.0, str(exc)))
            return Verdict.REJECT, f"buyer's ADR-036 signature over the order UUID is invalid: {exc}"
        checks.append(CheckResult("buyer.ownership", True, 1.0, "ADR-036 signature over the order UUID verified"))
        score = self.scores.score(order.buyer_address)
        if score is None:
            checks.append(CheckResult("buyer.score", False, 0.0, "no score on chain yet"))
            return Verdict.PENDING, "buyer has no on-chain score yet (verification pending)"
        ok = score.value >= offering.min_score
        checks.append(CheckResult("buyer.score", ok, score.value / 100.0, f"score {score.value} ({score.tier}), minimum {offering.min_score}"))
        if not ok:
            return Verdict.REJECT, f"buyer score {score.value} below the offering minimum {offering.min_score}"
        return None

    def _hold(self, order: OrderFacts, reason: str, checks: list[CheckResult]) -> OrderDecision:
        if order.created_at is not None and self.clock() - order.created_at > self.cfg.pending_timeout_s:
            return self._finish(Verdict.REJECT, f"{reason}; held longer than {self.cfg.pending_timeout_s} s", checks)
        return self._finish(Verdict.PENDING, reason, checks)

    @staticmethod
    def _finish(verdict: Verdict, reason: str, checks: list[CheckResult]) -> OrderDecision:
        return OrderDecision(verdict, reason, tuple(checks))
