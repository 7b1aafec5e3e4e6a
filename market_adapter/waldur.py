"""Thin boundary to Waldur's REST API through waldur-api-client: orders, offerings, provider messages, component usages.

Every dependency failure (HTTP status, transport, malformed body) becomes an
:class:`~veid.errors.AdapterError`; the rest of the package sees only VEID types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import httpx

from market_adapter.gate import MarketConfig, OfferingFacts, OrderFacts
from veid.errors import AdapterError


def _attrs(model: Any) -> dict[str, Any]:
    """A waldur-api-client attributes model (or Unset/None) as a plain dict."""
    if model is None or not hasattr(model, "to_dict"):
        return {}
    return dict(model.to_dict())


def _uuid(value: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise AdapterError(f"not a UUID: {value!r}") from exc


def order_facts(order: Any, cfg: MarketConfig) -> OrderFacts:
    """Extract :class:`OrderFacts` from a waldur-api-client ``OrderDetails``.

    The signature attribute may be the StdSignature mapping itself or its JSON text.
    """
    attrs = _attrs(order.attributes)
    signature = attrs.get(cfg.buyer_signature_attr)
    if isinstance(signature, str):
        try:
            signature = json.loads(signature)
        except ValueError:
            signature = {"malformed": signature}
    if signature is not None and not isinstance(signature, Mapping):
        signature = {"malformed": repr(signature)}
    address = attrs.get(cfg.buyer_address_attr)
    created = getattr(order, "created", None)
    secret = {cfg.buyer_signature_attr, cfg.buyer_address_attr}
    return OrderFacts(
        order_uuid=str(order.uuid),
        buyer_address=address if isinstance(address, str) else "",
        buyer_signature=signature,
        created_at=created.timestamp() if hasattr(created, "timestamp") else None,
        attributes={k: v for k, v in attrs.items() if k not in secret},
    )


def offering_facts(offering: Any, cfg: MarketConfig) -> OfferingFacts:
    """Extract :class:`OfferingFacts` from a ``ProviderOfferingDetails``; the minimum defaults to params.yaml."""
    attrs = _attrs(offering.attributes)
    raw_min = attrs.get(cfg.min_score_attr, cfg.default_min_score)
    try:
        min_score = int(raw_min)
    except (TypeError, ValueError):
        raise AdapterError(f"offering {offering.uuid}: {cfg.min_score_attr}={raw_min!r} is not an integer") from None
    if not 0 <= min_score <= 100:
        raise AdapterError(f"offering {offering.uuid}: {cfg.min_score_attr}={min_score} outside 0..100")
    return OfferingFacts(
        offering_uuid=str(offering.uuid),
        provider_address=str(attrs.get(cfg.provider_address_attr, "") or ""),
        provider_domain=str(attrs.get(cfg.provider_domain_attr, "") or ""),
        min_score=min_score,
    )


class WaldurClient:
    """The Waldur endpoints the adapter uses, as typed calls.

    Args:
        base_url: Waldur root, for example ``https://waldur.example.org`` (the client appends ``/api/...``).
        token: API token (``Authorization: Token <token>``).
        timeout_s: HTTP timeout, seconds.
    """

    def __init__(self, base_url: str, token: str, timeout_s: float = 30.0) -> None:
        from waldur_api_client import AuthenticatedClient

        root = base_url.rstrip("/")
        root = root[: -len("/api")] if root.endswith("/api") else root
        self.client = AuthenticatedClient(base_url=root, token=token, timeout=httpx.Timeout(timeout_s))

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from waldur_api_client import errors

        try:
            return fn(*args, client=self.client, **kwargs)
        except errors.UnexpectedStatus as exc:
            body = exc.content.decode("utf-8", "replace")[:200]
            raise AdapterError(f"Waldur {what}: HTTP {exc.status_code}: {body}") from exc
        except httpx.HTTPError as exc:
            raise AdapterError(f"Waldur {what}: {type(exc).__name__}: {exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise AdapterError(f"Waldur {what}: unexpected response shape: {exc}") from exc

    def pending_orders(self, offering_uuid: str) -> list[Any]:
        """Orders of the offering in state ``pending-provider`` (all pages), as ``OrderDetails``."""
        from waldur_api_client.api.marketplace_orders import marketplace_orders_list
        from waldur_api_client.models.order_state import OrderState

        return list(
            self._call(
                "list orders", marketplace_orders_list.sync_all,
                offering_uuid=_uuid(offering_uuid), state=[OrderState.PENDING_PROVIDER],
            )
        )  # fmt: skip

    def order(self, order_uuid: str) -> Any:
        """One ``OrderDetails``."""
        from waldur_api_client.api.marketplace_orders import marketplace_orders_retrieve

        return self._call("get order", marketplace_orders_retrieve.sync, _uuid(order_uuid))

    def offering(self, offering_uuid: str) -> Any:
        """The provider's view of an offering (``ProviderOfferingDetails``)."""
        from waldur_api_client.api.marketplace_provider_offerings import marketplace_provider_offerings_retrieve

        return self._call("get offering", marketplace_provider_offerings_retrieve.sync, _uuid(offering_uuid))

    def approve(self, order_uuid: str) -> str:
        """``approve_by_provider``; returns Waldur's detail message."""
        from waldur_api_client.api.marketplace_orders import marketplace_orders_approve_by_provider
        from waldur_api_client.models.order_approve_by_provider_request import OrderApproveByProviderRequest

        out = self._call(
            "approve order", marketplace_orders_approve_by_provider.sync, _uuid(order_uuid),
            body=OrderApproveByProviderRequest(),
        )  # fmt: skip
        return str(getattr(out, "detail", ""))

    def reject(self, order_uuid: str, comment: str) -> None:
        """``reject_by_provider`` with ``provider_rejection_comment``."""
        from waldur_api_client.api.marketplace_orders import marketplace_orders_reject_by_provider
        from waldur_api_client.models.order_provider_rejection_request import OrderProviderRejectionRequest

        self._call(
            "reject order", marketplace_orders_reject_by_provider.sync_detailed, _uuid(order_uuid),
            body=OrderProviderRejectionRequest(provider_rejection_comment=comment[:1000]),
        )  # fmt: skip

    def set_provider_message(self, order_uuid: str, message: str) -> None:
        """``set_provider_info``: a message from the provider to the consumer on the order."""
        from waldur_api_client.api.marketplace_orders import marketplace_orders_set_provider_info
        from waldur_api_client.models.order_provider_info_request import OrderProviderInfoRequest

        self._call(
            "set provider info", marketplace_orders_set_provider_info.sync, _uuid(order_uuid),
            body=OrderProviderInfoRequest(provider_message=message),
        )  # fmt: skip

    def report_usage(self, resource_uuid: str, usages: Mapping[str, float], description: str = "") -> None:
        """``component-usages/set_usage``: report consumed amounts per offering component type."""
        from waldur_api_client.api.marketplace_component_usages import marketplace_component_usages_set_usage
        from waldur_api_client.models.component_usage_create_request import ComponentUsageCreateRequest
        from waldur_api_client.models.component_usage_item_request import ComponentUsageItemRequest

        items = [
            ComponentUsageItemRequest(type_=name, amount=f"{float(amount):.6f}", description=description)
            for name, amount in sorted(usages.items())
        ]
        body = ComponentUsageCreateRequest(usages=items, resource=_uuid(resource_uuid))
        self._call("set usage", marketplace_component_usages_set_usage.sync_detailed, body=body)
