"""采购与销售 — orders reserve or expect; partial deliveries and receipts; returns; costing golden case."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from jxc.domain.documents import DocumentKind as K
from jxc.domain.errors import DomainError
from jxc.domain.permissions import BUILTIN_ROLES
from jxc.services import documents as docs
from jxc.services import masterdata, trade
from jxc.services import reserving as rs
from jxc.services.doc_rules import DraftInput, LineInput
from jxc.services.posting import SYSTEM, Actor
from tests.conftest import NOW

SALES = Actor("liu", BUILTIN_ROLES["sales"][2], role="sales")
MANAGER = Actor("qian", BUILTIN_ROLES["manager"][2], role="manager", reauthenticated=True)
BUYER = Actor("zhao", BUILTIN_ROLES["purchaser"][2] | BUILTIN_ROLES["keeper"][2], role="purchaser")


@pytest.fixture
def partners(app):
    sup = masterdata.create(app.uow_factory, "partners", {"code": "S1", "name": "城南蔬菜批发", "role": "supplier"},
                            SYSTEM, NOW)
    cus = masterdata.create(app.uow_factory, "partners", {"code": "C1", "name": "幸福里餐馆", "role": "customer"},
                            SYSTEM, NOW)
    return sup, cus


def on_hand(app, w, product):
    return sum((a.qty for a in app.queries.balances(product_id=product, warehouse_id=w.wh).values()), D(0))


def test_purchase_order_three_partial_receipts_tolerance_return_and_price_history(app, world, partners):
    sup, _ = partners
    masterdata.add_unit_conversion(app.uow_factory, world.rice, "件", "10", SYSTEM, NOW)
    po = trade.create_order(app.uow_factory, "purchase", sup, world.wh,
                            [trade.OrderLineInput(world.rice, "10", unit="件", unit_price="250")], BUYER, NOW)
    assert trade.confirm_order(app.uow_factory, po, BUYER, NOW) == []
    assert on_hand(app, world, world.rice) == 0  # an order moves nothing
    for n, qty in enumerate(("40", "30", "20")):
        trade.receive(app.uow_factory, po, {1: qty}, BUYER, NOW + timedelta(days=n))
    got = trade.get_order(app.uow_factory, po)
    assert (got["state"], got["lines"][0]["qty_done"], got["lines"][0]["unit_price"]) == ("partial", D(90), D(25))
    last = trade.receive(app.uow_factory, po, {1: "21"}, BUYER, NOW + timedelta(days=3))  # 10 left + 10% = 20
    pending = docs.get(app.uow_factory, last)
    assert pending["state"] == "pending_approval" and "超收" in pending["approval_plan"][0]["reasons"][0]
    assert on_hand(app, world, world.rice) == 90  # over-receipt waits for a manager, not refused
    docs.approve(app.uow_factory, last, MANAGER, NOW + timedelta(days=3))
    assert trade.get_order(app.uow_factory, po)["state"] == "done" and on_hand(app, world, world.rice) == 111
    docs.reverse(app.uow_factory, last, Actor("boss", frozenset({"*"}), role="owner"), NOW, reason="送错")
    assert trade.get_order(app.uow_factory, po)["state"] == "partial"  # the order follows its documents
    ret = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RETURN, world.wh, (LineInput(world.rice, "5"),),
                                                        partner_id=sup, reason_code="quality"), BUYER, NOW)
    docs.submit(app.uow_factory, ret, BUYER, NOW)
    assert on_hand(app, world, world.rice) == 85
    hist = trade.price_history(app.uow_factory, world.rice, sup, NOW + timedelta(days=5))
    assert (hist["last"], hist["min"], hist["receipts"]) == (D(25), D(25), 3)  # the reversed one is not a price
    assert app.queries.violations() == []


def test_sales_order_reserves_delivers_twice_and_closing_releases_the_rest(app, world, partners):
    sup, cus = partners
    po = trade.create_order(app.uow_factory, "purchase", sup, world.wh,
                            [trade.OrderLineInput(world.rice, "10", unit_price="3")], BUYER, NOW)
    trade.confirm_order(app.uow_factory, po, BUYER, NOW)
    trade.receive(app.uow_factory, po, None, BUYER, NOW)
    so = trade.create_order(app.uow_factory, "sales", cus, world.wh,
                            [trade.OrderLineInput(world.rice, "8", unit_price="5"),
                             trade.OrderLineInput(world.eggs, "30", unit_price="0.8")], SALES, NOW)
    suggestions = trade.confirm_order(app.uow_factory, so, SALES, NOW)
    assert [(s["product_id"], s["qty"]) for s in suggestions] == [(world.eggs, "30.0000")]  # 以销定购
    assert rs.availability(app.uow_factory, world.rice, world.wh, NOW.date()).available == D(2)
    with pytest.raises(DomainError):  # the counter cannot sell what the order holds
        docs.submit(app.uow_factory, docs.create_draft(app.uow_factory, DraftInput(
            K.SALES_DELIVERY, world.wh, (LineInput(world.rice, "3"),)), SALES, NOW), SALES, NOW)
    trade.deliver(app.uow_factory, so, {1: "5"}, SALES, NOW)
    trade.deliver(app.uow_factory, so, {1: "2"}, SALES, NOW)
    got = trade.get_order(app.uow_factory, so)
    assert got["state"] == "partial" and got["lines"][0]["qty_done"] == D(7)
    trade.close_order(app.uow_factory, so, SALES, NOW, reason="客户不要了")
    assert rs.availability(app.uow_factory, world.rice, world.wh, NOW.date()).available == D(3)
    assert app.queries.violations() == []


def test_moving_average_cost_golden_case(app, world, partners):
    """A bookkeeper's table: receipts raise the average, issues go out at it, a return comes back at it.

    | step                 | qty | price | on hand | value   | average |
    | receive              | 10  | 2.00  | 10      | 20.00   | 2.00    |
    | receive              | 30  | 3.00  | 40      | 110.00  | 2.75    |
    | deliver (COGS 41.25) | 15  |       | 25      | 68.75   | 2.75    |
    | receive              | 5   | 4.40  | 30      | 90.75   | 3.025   |
    | deliver (COGS 30.25) | 10  |       | 20      | 60.50   | 3.025   |
    """
    sup, cus = partners
    steps = [("in", "10", "2"), ("in", "30", "3"), ("out", "15", None), ("in", "5", "4.4"), ("out", "10", None)]
    cogs = []
    for direction, qty, price in steps:
        if direction == "in":
            d = docs.create_draft(app.uow_factory, DraftInput(K.PURCHASE_RECEIPT, world.wh, (
                LineInput(world.rice, qty, unit_price=price),), partner_id=sup), BUYER, NOW)
        else:
            d = docs.create_draft(app.uow_factory, DraftInput(K.SALES_DELIVERY, world.wh, (
                LineInput(world.rice, qty),), partner_id=cus), SALES, NOW)
        docs.submit(app.uow_factory, d, BUYER if direction == "in" else SALES, NOW)
        if direction == "out":
            value = sum((a.value for k, a in app.queries.balances(product_id=world.rice, physical_only=False).items()
                         if k.location_id == world.customer), D(0))
            cogs.append(value - sum(cogs, D(0)))
    bal = app.queries.balances(product_id=world.rice, warehouse_id=world.wh)
    assert sum(a.qty for a in bal.values()) == D(20) and sum(a.value for a in bal.values()) == D("60.50")
    assert cogs == [D("41.25"), D("30.25")]
