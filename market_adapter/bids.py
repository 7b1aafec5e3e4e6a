"""The provider bid engine: for open orders, decide whether a verified provider bids and at what price.

A bid is made when the provider itself is a service provider on chain, every requested
component has a configured unit price, every attribute the order requires matches what
the provider offers, the buyer's on-chain score reaches the provider's minimum, and the
total is within the buyer's budget. The price is the sum of quantity x unit price.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hpc_adapter.chain import Role, RoleReader, Score, ScoreReader
from market_adapter.gate import BidConfig
from veid.errors import ChainError


@dataclass(frozen=True)
class OpenOrder:
    """An order open for bids (from Waldur or the chain).

    Attributes:
        order_id: the order's identifier at its source.
        buyer_address: buyer's chain address.
        quantities: requested amount per component (``{"gpu_hour": 10}``), in the component's unit.
        requirements: attributes the provider must match (``{"gpu": "h100"}``), compared case-insensitively.
        max_price: the buyer's budget in the configured currency, or ``None`` for no limit.
    """

    order_id: str
    buyer_address: str
    quantities: Mapping[str, float]
    requirements: Mapping[str, str] = field(default_factory=dict)
    max_price: float | None = None


@dataclass(frozen=True)
class LineItem:
    """One priced component of a bid."""

    component: str
    quantity: float
    unit_price: float
    subtotal: float


@dataclass(frozen=True)
class BidDecision:
    """Whether to bid on one order, at what total price, and why."""

    order_id: str
    bid: bool
    price: float
    reason: str
    items: tuple[LineItem, ...] = ()


def open_order_from_waldur(order: Any, buyer_address_attr: str = "veid_address") -> OpenOrder:
    """An :class:`OpenOrder` from waldur-api-client's ``OrderDetails``: limits are quantities, other attributes requirements."""
    attrs = order.attributes.to_dict() if hasattr(order.attributes, "to_dict") else {}
    limits = order.limits.to_dict() if hasattr(order.limits, "to_dict") else {}
    budget = attrs.get("max_price")
    requirements = {
        k: str(v) for k, v in attrs.items() if not k.startswith("veid_") and k != "max_price" and isinstance(v, (str, int))
    }
    return OpenOrder(
        order_id=str(order.uuid),
        buyer_address=str(attrs.get(buyer_address_attr, "")),
        quantities={k: float(v) for k, v in limits.items()},
        requirements=requirements,
        max_price=float(budget) if budget is not None else None,
    )


class BidEngine:
    """``BidEngine(cfg, provider_address, scores, roles)(orders) -> list[BidDecision]``.

    Args:
        cfg: :class:`~market_adapter.gate.BidConfig` (prices, capabilities, minimum buyer score).
        provider_address: the bidding provider's chain address.
        scores: on-chain scores (buyers).
        roles: on-chain roles (the provider must be a service provider).
    """

    def __init__(self, cfg: BidConfig, provider_address: str, scores: ScoreReader, roles: RoleReader) -> None:
        self.cfg = cfg
        self.provider_address = provider_address
        self.scores = scores
        self.roles = roles
        self.prices = {k: Decimal(repr(v)) for k, v in cfg.unit_prices.items()}
        self.capabilities = {k.lower(): str(v).lower() for k, v in cfg.capabilities.items()}

    def __call__(self, orders: Iterable[OpenOrder]) -> list[BidDecision]:
        orders = list(orders)
        try:
            is_sp = Role.SERVICE_PROVIDER in self.roles.roles(self.provider_address).roles
        except ChainError as exc:
            return [BidDecision(o.order_id, False, 0.0, f"chain unavailable: {exc}") for o in orders]
        if not is_sp:
            return [BidDecision(o.order_id, False, 0.0, "provider is not a verified service provider") for o in orders]
        cache: dict[str, Score | None | ChainError] = {}
        return [self._decide(order, cache) for order in orders]

    def _decide(self, order: OpenOrder, cache: dict[str, Score | None | ChainError]) -> BidDecision:
        def no(reason: str) -> BidDecision:
            return BidDecision(order.order_id, False, 0.0, reason)

        if not order.quantities:
            return no("order requests no components")
        for name, qty in order.quantities.items():
            if name not in self.prices:
                return no(f"component {name} not offered")
            if not 0 < qty <= self.cfg.max_units:
                return no(f"quantity {qty} of {name} outside (0, {self.cfg.max_units}]")
        for key, wanted in order.requirements.items():
            offered = self.capabilities.get(key.lower())
            if offered is None:
                return no(f"provider does not offer {key}")
            if offered != str(wanted).lower():
                return no(f"order requires {key}={wanted}, provider offers {offered}")
        if order.buyer_address not in cache:
            try:
                cache[order.buyer_address] = self.scores.score(order.buyer_address) if order.buyer_address else None
            except ChainError as exc:
                cache[order.buyer_address] = exc
        score = cache[order.buyer_address]
        if isinstance(score, ChainError):
            return no(f"chain unavailable: {score}")
        if score is None:
            return no("buyer has no on-chain score")
        if score.value < self.cfg.min_buyer_score:
            return no(f"buyer score {score.value} below provider minimum {self.cfg.min_buyer_score}")
        items = []
        total = Decimal(0)
        for name, qty in sorted(order.quantities.items()):
            subtotal = Decimal(repr(float(qty))) * self.prices[name]
            total += subtotal
            items.append(LineItem(name, float(qty), float(self.prices[name]), float(subtotal)))
        if order.max_price is not None and total > Decimal(repr(order.max_price)):
            return no(f"price {float(total)} {self.cfg.currency} exceeds the buyer's budget {order.max_price}")
        return BidDecision(order.order_id, True, float(total), "bid", tuple(items))
