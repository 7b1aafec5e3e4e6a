"""A local Waldur API on 127.0.0.1 for the adapter tests: the endpoints the adapter calls, shapes from waldur-api-client.

Responses are built with waldur-api-client's own models (``OrderDetails``,
``ProviderOfferingDetails``, ``OrderInfoResponse``) and request bodies are parsed with its
request models, so a shape the real API would not accept fails here too. State
transitions follow Waldur: approve/reject by provider only from ``pending-provider``.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from waldur_api_client.models.component_usage_create_request import ComponentUsageCreateRequest
from waldur_api_client.models.order_details import OrderDetails
from waldur_api_client.models.order_details_attributes import OrderDetailsAttributes
from waldur_api_client.models.order_info_response import OrderInfoResponse
from waldur_api_client.models.order_provider_info_request import OrderProviderInfoRequest
from waldur_api_client.models.order_provider_rejection_request import OrderProviderRejectionRequest
from waldur_api_client.models.order_state import OrderState
from waldur_api_client.models.provider_offering_details import ProviderOfferingDetails
from waldur_api_client.models.provider_offering_details_attributes import ProviderOfferingDetailsAttributes

TOKEN = "test-token-0123456789"


class FakeWaldur:
    """In-memory Waldur state plus an HTTP server thread; use as a context manager."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderDetails] = {}
        self.offerings: dict[str, ProviderOfferingDetails] = {}
        self.usages: list[ComponentUsageCreateRequest] = []
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeWaldur:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_offering(self, attributes: dict[str, Any]) -> str:
        key = uuidlib.uuid4()
        self.offerings[key.hex] = ProviderOfferingDetails(
            uuid=key, name="GPU nodes", attributes=ProviderOfferingDetailsAttributes.from_dict(attributes)
        )
        return str(key)

    def add_order(self, offering_uuid: str, attributes: dict[str, Any], created: dt.datetime | None = None) -> str:
        key = uuidlib.uuid4()
        self.orders[key.hex] = OrderDetails(
            uuid=key, offering_uuid=uuidlib.UUID(offering_uuid), state=OrderState.PENDING_PROVIDER,
            attributes=OrderDetailsAttributes.from_dict(attributes), resource_name="job",
            created=created or dt.datetime.now(dt.timezone.utc),
        )  # fmt: skip
        return str(key)

    def state(self, order_uuid: str) -> OrderState:
        return self.orders[uuidlib.UUID(order_uuid).hex].state


def _key(text: str) -> str:
    try:
        return uuidlib.UUID(text).hex
    except ValueError:
        return ""


def _handler(app: FakeWaldur) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") != f"Token {TOKEN}":
                self._send(401, {"detail": "Authentication credentials were not provided."})
                return False
            return True

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self) -> None:  # noqa: N802
            if not self._authorized():
                return
            url = urlparse(self.path)
            parts = [p for p in url.path.split("/") if p]
            if len(parts) == 3:
                parts[2] = _key(parts[2])
            app.requests.append(("GET", url.path))
            with app.lock:
                if parts == ["api", "marketplace-orders"]:
                    query = parse_qs(url.query)
                    states = set(query.get("state", []))
                    offering = query.get("offering_uuid", [None])[0]
                    rows = [
                        o.to_dict() for o in app.orders.values()
                        if (not states or o.state.value in states)
                        and (offering is None or o.offering_uuid.hex == uuidlib.UUID(offering).hex)
                    ]  # fmt: skip
                    return self._send(200, rows)
                if len(parts) == 3 and parts[1] == "marketplace-orders" and parts[2] in app.orders:
                    return self._send(200, app.orders[parts[2]].to_dict())
                if len(parts) == 3 and parts[1] == "marketplace-provider-offerings" and parts[2] in app.offerings:
                    return self._send(200, app.offerings[parts[2]].to_dict())
            self._send(404, {"detail": "Not found."})

        def do_POST(self) -> None:  # noqa: N802
            if not self._authorized():
                return
            parts = [p for p in urlparse(self.path).path.split("/") if p]
            if len(parts) == 4:
                parts[2] = _key(parts[2])
            app.requests.append(("POST", self.path))
            body = self._body()
            with app.lock:
                if parts == ["api", "marketplace-component-usages", "set_usage"]:
                    app.usages.append(ComponentUsageCreateRequest.from_dict(body))
                    return self._send(201, {})
                if len(parts) != 4 or parts[1] != "marketplace-orders" or parts[2] not in app.orders:
                    return self._send(404, {"detail": "Not found."})
                order, action = app.orders[parts[2]], parts[3]
                if action in ("approve_by_provider", "reject_by_provider"):
                    if order.state != OrderState.PENDING_PROVIDER:
                        return self._send(400, {"detail": f"Order is in state {order.state.value}."})
                    if action == "approve_by_provider":
                        order.state = OrderState.EXECUTING
                        return self._send(200, OrderInfoResponse(detail="Order has been approved.").to_dict())
                    order.provider_rejection_comment = OrderProviderRejectionRequest.from_dict(body).provider_rejection_comment
                    order.state = OrderState.REJECTED
                    return self._send(200, {})
                if action == "set_provider_info":
                    order.provider_message = OrderProviderInfoRequest.from_dict(body).provider_message
                    return self._send(200, OrderInfoResponse(detail="Provider info has been updated.").to_dict())
            self._send(404, {"detail": "Not found."})

    return Handler
