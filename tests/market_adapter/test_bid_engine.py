"""Provider bid engine: prices, attribute matching, buyer score minimum, provider verification."""

from __future__ import annotations

import uuid

from waldur_api_client.models.order_details import OrderDetails
from waldur_api_client.models.order_details_attributes import OrderDetailsAttributes
from waldur_api_client.models.order_details_limits import OrderDetailsLimits

from hpc_adapter.chain import Role
from market_adapter.bids import BidEngine, OpenOrder, open_order_from_waldur
from market_adapter.gate import BidConfig

CFG = BidConfig(unit_prices={"gpu_hour": 2.5, "cpu_hour": 0.04}, capabilities={"gpu": "H100", "region": "eu"},
                min_buyer_score=75)


def engine(world):
    return BidEngine(CFG, world.provider.address, world.chain, world.chain)


def test_bids_priced_from_unit_prices(world):
    (d,) = engine(world)([OpenOrder("o1", world.buyer.address, {"gpu_hour": 10, "cpu_hour": 100}, {"gpu": "h100"})])
    assert d.bid and d.price == 10 * 2.5 + 100 * 0.04
    assert [(i.component, i.subtotal) for i in d.items] == [("cpu_hour", 4.0), ("gpu_hour", 25.0)]


def test_skips_with_reasons(world):
    b = world.buyer.address
    orders = [
        OpenOrder("low", world.stranger.address, {"gpu_hour": 1}),
        OpenOrder("unscored", "virtengine1nobody", {"gpu_hour": 1}),
        OpenOrder("a100", b, {"gpu_hour": 1}, {"gpu": "a100"}),
        OpenOrder("us", b, {"gpu_hour": 1}, {"zone": "us-east"}),
        OpenOrder("tpu", b, {"tpu_hour": 1}),
        OpenOrder("budget", b, {"gpu_hour": 100}, max_price=200.0),
        OpenOrder("zero", b, {"gpu_hour": 0}),
    ]
    reasons = {d.order_id: (d.bid, d.reason) for d in engine(world)(orders)}
    assert reasons == {
        "low": (False, "buyer score 35 below provider minimum 75"),
        "unscored": (False, "buyer has no on-chain score"),
        "a100": (False, "order requires gpu=a100, provider offers h100"),
        "us": (False, "provider does not offer zone"),
        "tpu": (False, "component tpu_hour not offered"),
        "budget": (False, "price 250.0 uve exceeds the buyer's budget 200.0"),
        "zero": (False, "quantity 0 of gpu_hour outside (0, 1000000.0]"),
    }


def test_unverified_provider_never_bids(world):
    world.chain.set_roles(world.provider.address, {Role.CUSTOMER})
    (d,) = engine(world)([OpenOrder("o1", world.buyer.address, {"gpu_hour": 1})])
    assert not d.bid and d.reason == "provider is not a verified service provider"


def test_waldur_order_becomes_open_order(world):
    order = OrderDetails(
        uuid=uuid.uuid4(),
        attributes=OrderDetailsAttributes.from_dict({"veid_address": world.buyer.address, "gpu": "H100", "max_price": 30}),
        limits=OrderDetailsLimits.from_dict({"gpu_hour": 4}),
    )
    open_order = open_order_from_waldur(order)
    assert open_order.quantities == {"gpu_hour": 4.0} and open_order.requirements == {"gpu": "H100"}
    (d,) = engine(world)([open_order])
    assert d.bid and d.price == 10.0
